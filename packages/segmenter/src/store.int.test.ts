/** The membership store's atomic steps on the real Redis (the local stack), each test under its own prefix. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, test } from 'vitest';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { membershipEventId, type Decision, type OutboxEvent } from './store/records.ts';
import { shardOf } from './store/keys.ts';
import { MembershipStore } from './store/store.ts';
import { evaluationOf, shardZeroMembers } from './store/arbitraries.ts';
import { countWrites } from '@profile-stream/profile/testing';

const url = process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? 6379}`;
const clients: Redis[] = [];
afterAll(() => {
  for (const c of clients) c.disconnect();
});

function setup(shards = 4) {
  const redis = new Redis(url);
  clients.push(redis);
  return new MembershipStore(redis, { prefix: `t-${randomBytes(4).toString('hex')}:`, shards });
}

async function outbox(store: MembershipStore): Promise<OutboxEvent[]> {
  const out: OutboxEvent[] = [];
  for (let s = 0; s < store.shards; s++) {
    for (const { event } of await store.outbox(s)) out.push(event);
  }
  return out;
}

const d = (segment: string, member: boolean, extra: Partial<Decision> = {}): Decision => ({
  segment,
  definitionVersion: 1,
  member,
  reason: member ? 'rule_matched' : 'rule_unmatched',
  occurredAt: 1_000,
  nextChangeAt: null,
  traits: {},
  ...extra,
});

test('a change is written with its outbox record; the same decision again writes nothing', async () => {
  const store = setup();
  assert.deepEqual(await store.apply('p1', 1, 'e1', [d('loyal', true, { traits: { 'transactions.orders_count': '4' } }), d('dormant', false)]), {
    kind: 'ok',
    emitted: 1,
  });
  assert.deepEqual(await store.apply('p1', 1, 'e1', [d('loyal', true), d('dormant', false)]), { kind: 'ok', emitted: 0 });
  const events = await outbox(store);
  assert.deepEqual(events, [
    {
      profile_id: 'p1',
      segment_id: 'loyal',
      segment_version: 1,
      change: 'entered',
      reason: 'rule_matched',
      membership_version: 1,
      occurred_at: 1_000,
      trigger_event_id: 'e1',
      traits: { 'transactions.orders_count': '4' },
    },
  ]);
  assert.equal(membershipEventId(events[0]!), 'p1:loyal:m1');
  const state = await store.read('p1');
  assert.deepEqual(state.segments.get('loyal'), { member: true, version: 1, definitionVersion: 1, occurredAt: 1_000 });
  assert.equal(state.segments.get('dormant'), undefined, 'never a member: nothing stored');
  assert.equal((await store.size('loyal', 5)).members, 1);
});

test('membership versions count changes; occurred_at never goes back; an older profile version is refused', async () => {
  const store = setup();
  await store.apply('p1', 3, null, [d('loyal', true, { occurredAt: 5_000 })]);
  assert.deepEqual(await store.apply('p1', 2, null, [d('loyal', false)]), { kind: 'stale', profileVersion: 3 });
  await store.apply('p1', 4, null, [d('loyal', false, { occurredAt: 4_000 })]);
  const events = await outbox(store);
  assert.deepEqual(
    events.map((e) => [e.change, e.membership_version, e.occurred_at]),
    [
      ['entered', 1, 5_000],
      ['exited', 2, 5_000],
    ],
  );
  assert.equal((await store.size('loyal')).members, 0);
});

test('the schedule holds the earliest next change over all segments, and unschedule keeps a rescheduled entry', async () => {
  const store = setup(1);
  await store.apply('p1', 1, null, [d('a', false, { nextChangeAt: 9_000 }), d('b', true, { nextChangeAt: 7_000 })]);
  assert.deepEqual(await store.dueBefore(0, 10_000, 10), [['p1', 7_000]]);
  await store.apply('p1', 1, null, [d('b', true, { nextChangeAt: null })]);
  assert.deepEqual(await store.dueBefore(0, 10_000, 10), [['p1', 9_000]]);
  await store.unschedule(0, [['p1', 7_000]]);
  assert.deepEqual(await store.dueBefore(0, 10_000, 10), [['p1', 9_000]], 'a stale unschedule leaves the new due time');
  await store.unschedule(0, [['p1', 9_000]]);
  assert.deepEqual(await store.dueBefore(0, 10_000, 10), []);
});

test('a changed definition version turns the change reason into definition_changed', async () => {
  const store = setup();
  await store.apply('p1', 1, null, [d('loyal', true)]);
  await store.apply('p1', 1, null, [d('loyal', false, { definitionVersion: 2 })]);
  const events = await outbox(store);
  assert.deepEqual(
    events.map((e) => [e.reason, e.segment_version]),
    [
      ['rule_matched', 1],
      ['definition_changed', 2],
    ],
  );
});

test('retire: a merged profile exits every segment once, leaves the schedule and refuses later evaluations', async () => {
  const store = setup(1);
  await store.apply('m1', 1, null, [d('loyal', true, { nextChangeAt: 50_000 }), d('dormant', true), d('at-risk', false)]);
  assert.equal(await store.retire('m1', { merged_into: 's1' }, 2_000, 'e9'), 2);
  assert.equal(await store.retire('m1', { merged_into: 's1' }, 3_000, 'e9'), 0, 'idempotent');
  const exits = (await outbox(store)).filter((e) => e.change === 'exited');
  assert.deepEqual(exits.map((e) => [e.segment_id, e.reason, e.membership_version, e.occurred_at, e.trigger_event_id]).sort(), [
    ['dormant', 'profile_merged', 2, 2_000, 'e9'],
    ['loyal', 'profile_merged', 2, 2_000, 'e9'],
  ]);
  assert.deepEqual(await store.dueBefore(0, Number.MAX_SAFE_INTEGER, 10), []);
  assert.deepEqual(await store.apply('m1', 5, null, [d('loyal', true)]), { kind: 'dead', dead: 'merged:s1' });
  assert.equal((await store.size('loyal')).members, 0);
});

test('versions (what a tick carries), members over all shards, and the relay read: from a cursor, then relayed entries leave the outbox', async () => {
  const store = setup(4);
  const pids = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
  for (const [i, pid] of pids.entries()) await store.apply(pid, 10 + i, null, [d('loyal', i % 2 === 0)]);
  assert.deepEqual(await store.versions([...pids, 'never']), [10, 11, 12, 13, 14, 15, 0]);
  assert.deepEqual((await store.members('loyal')).sort(), ['p1', 'p3', 'p5']);

  const connection = new Redis(url);
  clients.push(connection);
  const from = new Map(Array.from({ length: store.shards }, (_, s) => [s, '0-0'] as [number, string]));
  const read = await store.readOutbox({ from, count: 100, blockMs: 100, connection });
  assert.deepEqual(read.flatMap((r) => r.entries.map((e) => e.event.profile_id)).sort(), ['p1', 'p3', 'p5']);
  for (const { shard, entries } of read) {
    assert.deepEqual(entries, await store.outbox(shard), `shard ${shard} read whole`);
    const ids = entries.map((e) => e.id);
    await store.relayed(shard, ids[ids.length - 1]!, ids);
    assert.equal(await store.cursor(shard), ids[ids.length - 1]);
    assert.deepEqual(await store.outbox(shard), []);
  }
  assert.equal((await store.backlog()).outbox, 0);
  assert.deepEqual(await store.readOutbox({ from, count: 100, blockMs: 50, connection }), [], 'nothing left to read');
});

test('acknowledge: every shard of a relay round in one round trip, each cursor moved only under its lease', async () => {
  const conn = new Redis(url);
  clients.push(conn);
  const store = new MembershipStore(conn, { prefix: `t-${randomBytes(4).toString('hex')}:`, shards: 8 });
  const owner = 'relay-a';
  const writer = new Redis(url);
  clients.push(writer);
  // A profile in every shard, each with one outbox entry.
  const pids: string[] = [];
  for (let i = 0; pids.length < store.shards; i++) {
    const pid = `p${i}`;
    if (!pids.some((p) => shardOf(p, store.shards) === shardOf(pid, store.shards))) pids.push(pid);
  }
  for (const pid of pids) await store.apply(pid, 1, null, [d('loyal', true)]);
  for (let s = 0; s < store.shards; s++) await writer.set(store.keys.shard(s).lease.relay, s === 5 ? 'relay-b' : owner);
  await writer.del(store.keys.shard(6).lease.relay); // lapsed, nobody took it

  const acks = [];
  for (let s = 0; s < store.shards; s++) acks.push({ shard: s, ids: (await store.outbox(s)).map((e) => e.id) });
  const writes = await countWrites(conn);
  assert.deepEqual(await store.acknowledge(owner, acks), [5, 6], 'the shards whose lease relay-a does not hold');
  assert.equal(writes.n, 1, 'one request for all shards');
  for (let s = 0; s < store.shards; s++) {
    const left = (await store.outbox(s)).map((e) => e.id);
    if (s === 5 || s === 6) {
      assert.deepEqual(left, acks[s]!.ids, `shard ${s}: entries kept`);
      assert.equal(await store.cursor(s), '0-0', `shard ${s}: cursor not moved`);
    } else {
      assert.deepEqual(left, [], `shard ${s}: entries dropped`);
      assert.equal(await store.cursor(s), acks[s]!.ids.at(-1), `shard ${s}: cursor moved`);
    }
  }
  const cursors = await store.cursors([0, 5, 7]);
  assert.deepEqual(
    [...cursors],
    [
      [0, acks[0]!.ids.at(-1)],
      [5, '0-0'],
      [7, acks[7]!.ids.at(-1)],
    ],
  );
});

test('applyMany over one shard gives the results, Redis state and outbox entries of the same evaluations applied one by one', async () => {
  // members of shard 0 of 4 (a member may come several times; one of them may be retired before the sequence)
  const pids = shardZeroMembers(3);
  const segments = ['loyal', 'dormant', 'vip'];
  const evaluation = evaluationOf(pids, segments, { maxVersion: 6, maxDefinitionVersion: 2 });
  await fc.assert(
    fc.asyncProperty(fc.array(evaluation, { minLength: 1, maxLength: 12 }), fc.option(fc.constantFrom(...pids), { nil: null }), async (evals, dead) => {
      const [one, many] = [setup(4), setup(4)];
      for (const store of [one, many]) if (dead !== null) await store.retire(dead, { erased: true }, 0, null);
      const singles = [];
      for (const e of evals) singles.push(await one.apply(e.pid, e.profileVersion, e.trigger, e.decisions));
      assert.deepEqual(await many.applyMany(evals), singles);
      for (const pid of pids) assert.deepEqual(await many.read(pid), await one.read(pid), pid);
      for (const seg of segments) assert.deepEqual((await many.members(seg)).sort(), (await one.members(seg)).sort(), seg);
      assert.deepEqual(await many.dueBefore(0, Number.MAX_SAFE_INTEGER, 100), await one.dueBefore(0, Number.MAX_SAFE_INTEGER, 100));
      assert.deepEqual(await outbox(many), await outbox(one));
    }),
    { numRuns: 40 },
  );
});

test('applyMany refuses members of different shards', async () => {
  const store = setup(4);
  const [a, b] = ['p0', 'p1', 'p2', 'p3', 'p4'].filter((p, i, all) => all.findIndex((q) => shardOf(q, 4) === shardOf(p, 4)) === i);
  await assert.rejects(
    store.applyMany([
      { pid: a!, profileVersion: 1, trigger: null, decisions: [d('loyal', true)] },
      { pid: b!, profileVersion: 1, trigger: null, decisions: [d('loyal', true)] },
    ]),
    /one shard/,
  );
});
