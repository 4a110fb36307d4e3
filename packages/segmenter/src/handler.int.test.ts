/**
 * The segmenter's chunk handler on the real Redis and schema registry (the local stack), each test under its own
 * prefixes: profile changes that name contacts of an account cost ONE evaluation of that account per chunk, at the
 * chunk's latest change, with the memberships the account's contributions give.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createLogger, untimed, type BatchContext, type KitMessage, type Outcome } from '@profile-stream/consumer-kit';
import { ContractsRegistry, resolveTopics, type ProfileChanged, type TopicTable } from '@profile-stream/contracts';
import { AccountStore, ProfileStore, type Contribution, type ProfileDoc } from '@profile-stream/profile';
import { ACCOUNT_SEGMENTS, accountMemberships } from '@profile-stream/segments';
import { accountMemberId } from './accounts.ts';
import { segmenterHandler } from './handler.ts';
import { createSegmenterMetrics } from './metrics.ts';
import type { ApplyResult, Evaluation } from './store/records.ts';
import { MembershipStore } from './store/store.ts';

const REDIS_URL = process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? 6379}`;
const REGISTRY_URL = process.env.SCHEMA_REGISTRY_URL ?? `http://127.0.0.1:${process.env.SCHEMA_REGISTRY_PORT ?? 8081}`;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);
const T = NOW - 5 * DAY;

let redis: Redis;
let registry: ContractsRegistry;
let topics: TopicTable;
const prefixes: string[] = [];
beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  topics = resolveTopics({ prefix: `t-seg-handler-${randomBytes(3).toString('hex')}.` });
  registry = new ContractsRegistry({ host: REGISTRY_URL, topics, retry: { retries: 0 } });
  await registry.registerAll();
});
afterAll(async () => {
  for (const p of prefixes) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${p}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
  redis.disconnect();
});

/** The membership store with the member ids of each script call it made, in call order (writes go to the real Redis). */
class RecordingStore extends MembershipStore {
  readonly calls: string[][] = [];
  get applied(): string[] {
    return this.calls.flat();
  }
  override applyMany(evaluations: readonly Evaluation[]): Promise<ApplyResult[]> {
    this.calls.push(evaluations.map((e) => e.pid));
    return super.applyMany(evaluations);
  }
}

/** An account store whose reads of one account fail (a Redis error), for what a failed evaluation does. */
class FailingAccounts extends AccountStore {
  override contributions(accountId: string): Promise<Contribution[]> {
    return accountId === 'acct-broken' ? Promise.reject(new Error('connection lost')) : super.contributions(accountId);
  }
}

function setup(o: { failing?: boolean } = {}) {
  const prefix = `t-seg-handler-${randomBytes(4).toString('hex')}:`;
  prefixes.push(prefix);
  const memberships = new RecordingStore(redis, { prefix, shards: 4 });
  const accounts = o.failing ? new FailingAccounts(redis, prefix) : new AccountStore(redis, prefix);
  const handler = segmenterHandler({
    defs: [],
    registry,
    topics,
    memberships,
    profiles: new ProfileStore({ redis, prefix, windowMs: 90 * DAY }),
    accounts,
    metrics: createSegmenterMetrics(new Registry()),
    log: createLogger({ name: 'test', level: 'silent' }),
    now: () => NOW,
  });
  return { memberships, accounts, handler };
}

/** A contact of `accountId` first seen with it at `at` (what the stitcher writes before it publishes the change). */
const contactDoc = (accountId: string, at: number): ProfileDoc => ({ account: { id: { v: accountId, t: at, id: `e-${at}` }, seen: { [accountId]: at } } });

let offset = 0;
async function change(pid: string, version: number, at: number, accountId: string | null, o: Partial<ProfileChanged> = {}): Promise<KitMessage> {
  const value: ProfileChanged = {
    event_id: `${pid}:v${version}`,
    profile_id: pid,
    profile_version: version,
    cause: 'event',
    trigger_event_id: `ev-${pid}-${version}`,
    source_topic: null,
    changed_sections: [],
    occurred_at: at,
    emitted_at: at,
    profile_json: JSON.stringify({ profile_id: pid, ...(accountId ? { account: { account_id: accountId } } : {}) }),
    ...o,
  } as ProfileChanged;
  const topic = topics['profile-changes'].topic;
  return {
    topic,
    partition: 0,
    offset: String(offset++),
    key: Buffer.from(pid),
    value: await registry.encode(topic, value),
    headers: {},
    timestamp: String(at),
  };
}

const ctx: BatchContext = { heartbeat: async () => undefined, signal: new AbortController().signal, hops: untimed, defer: () => undefined };

test("a chunk's changes of one account's contacts evaluate that account once, at the latest change, with the same memberships", async () => {
  const { memberships, accounts, handler } = setup();
  const contacts = { p1: 'acct-A', p2: 'acct-A', p3: 'acct-A', q1: 'acct-B' } as const;
  await accounts.apply(
    Object.entries(contacts).map(([pid, a]) => ({ profileId: pid, version: 2, doc: contactDoc(a, T) as Record<string, unknown>, mergedIds: [] })),
    NOW,
  );
  const chunk = [
    await change('p1', 1, T + 1_000, 'acct-A'),
    await change('p2', 1, T + 3_000, 'acct-A'), // the latest of acct-A's changes: its trigger
    await change('p1', 2, T + 2_000, 'acct-A'),
    await change('q1', 1, T + 1_000, 'acct-B'),
    await change('p3', 1, T + 3_000 - 1, 'acct-A'),
    await change('p4', 1, T, null),
  ];
  const outcomes = await handler(chunk, ctx);
  assert.deepEqual(
    outcomes.map((o) => o.kind),
    chunk.map(() => 'ok'),
  );

  const count = (id: string) => memberships.applied.filter((m) => m === id).length;
  assert.equal(count(accountMemberId('acct-A')), 1, `one evaluation of acct-A for its four changes (applied: ${memberships.applied.join(', ')})`);
  assert.equal(count(accountMemberId('acct-B')), 1);
  for (const pid of ['p1', 'p2', 'p3', 'p4', 'q1']) assert.equal(count(pid), pid === 'p1' ? 2 : 1, `${pid}: one evaluation per change`);
  // one script call per shard for the whole chunk, profiles and accounts; p1's two changes in one call, in order
  const shards = new Set(memberships.applied.map((m) => memberships.shardOf(m)));
  assert.equal(memberships.calls.length, shards.size, `calls: ${JSON.stringify(memberships.calls)}`);
  for (const call of memberships.calls) assert.equal(new Set(call.map((m) => memberships.shardOf(m))).size, 1, 'a call writes one shard');
  assert.deepEqual((await memberships.read('p1')).profileVersion, 2, "p1's later change applied after its earlier one");

  for (const id of ['acct-A', 'acct-B']) {
    const expected = accountMemberships(id, await accounts.contributions(id), NOW);
    assert.ok(expected.has('new-account'), `${id} is new (first seen 5 days ago)`);
    const state = await memberships.read(accountMemberId(id));
    // every account segment decided: a member where the contributions say so (a segment never entered stores nothing)
    for (const s of ACCOUNT_SEGMENTS) assert.equal(state.segments.get(s.id)?.member === true, expected.has(s.id), `${id} ${s.id}`);
    assert.ok(
      [...state.segments.keys()].every((seg) => ACCOUNT_SEGMENTS.some((s) => s.id === seg)),
      'only account segments',
    );
  }
  const events = [];
  for (let s = 0; s < memberships.shards; s++) for (const { event } of await memberships.outbox(s)) events.push(event);
  const entered = events.filter((e) => e.profile_id === accountMemberId('acct-A'));
  assert.deepEqual(
    entered.map((e) => [e.segment_id, e.change, e.occurred_at, e.trigger_event_id]),
    [['new-account', 'entered', T + 3_000, 'ev-p2-1']],
  );
});

test('a failed account evaluation is the outcome of the changes that named it (retried with them); the others stand', async () => {
  const { memberships, accounts, handler } = setup({ failing: true });
  await accounts.apply([{ profileId: 'q1', version: 1, doc: contactDoc('acct-B', T) as Record<string, unknown>, mergedIds: [] }], NOW);
  const chunk = [await change('p1', 1, T, 'acct-broken'), await change('q1', 1, T, 'acct-B'), await change('p2', 1, T, 'acct-broken')];
  const outcomes: Outcome[] = await handler(chunk, ctx);
  assert.deepEqual(
    outcomes.map((o) => o.kind),
    ['retry', 'ok', 'retry'],
  );
  assert.deepEqual(
    memberships.applied.filter((m) => m.startsWith('account:')),
    [accountMemberId('acct-B')],
  );
});

test("a profile's evaluation queued in the chunk is written before a later change of the chunk retires it (offset order)", async () => {
  const { memberships, handler } = setup();
  const chunk = [await change('p9', 1, T, null), await change('p9', 2, T + 1, null, { cause: 'erase', profile_json: null })];
  const outcomes = await handler(chunk, ctx);
  assert.deepEqual(
    outcomes.map((o) => o.kind),
    ['ok', 'ok'],
    JSON.stringify(outcomes),
  );
  const state = await memberships.read('p9');
  assert.equal(state.profileVersion, 1, 'the change was applied');
  assert.equal(state.dead, 'erased', 'then the profile retired');
});
