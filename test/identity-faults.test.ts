/**
 * A stitcher process killed with SIGKILL between every two steps of a merge (STITCHER_KILL_AT: the process kills
 * itself when it reaches that gate), then started again: the chunk is redelivered (nothing was committed), the merge
 * completes exactly once, the customer's profile is the oracle's, the merge is announced on profile-merged (under
 * its one event id) and logged once, and every invariant holds.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { afterAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { eventKey } from '@profile-stream/contracts';
import { keySpace, ProfileStore } from '@profile-stream/profile';
import { oracleProfiles, snapshot, violations } from '@profile-stream/profile/testing';
import { runCli, testEnv, type TestEnv } from './support/index.ts';
import { startService, stopService, waitCommitted } from './support/pipeline.ts';

const DAY = 86_400_000;
const redis = new Redis(process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? 6379}`);
afterAll(() => redis.disconnect());

const now = Date.now();
type Ids = Record<'anonymous_id' | 'user_id' | 'email' | 'phone', string | null>;
const base: Ids = { anonymous_id: null, user_id: null, email: null, phone: null };
const purchase = (id: string, ids: Partial<Ids>, at: number) => ({
  ...base,
  ...ids,
  event_id: id,
  occurred_at: at,
  order_id: `o-${id}`,
  status: 'completed',
  channel: 'web',
  currency: 'GBP',
  total_minor: 1000,
  items: [],
});

async function produce(env: TestEnv, events: ReturnType<typeof purchase>[]): Promise<void> {
  const topic = env.topics.purchases.topic;
  const { createProducer } = await import('@profile-stream/consumer-kit');
  const p = createProducer(env.kafka);
  await p.connect();
  try {
    for (const e of events)
      await p.send({ topic, acks: -1, messages: [{ key: eventKey('purchases', e as never), value: await env.registry.encode(topic, e) }] });
  } finally {
    await p.disconnect();
  }
}

/** One case: two customers' profiles, then the event that links them, processed by a stitcher that dies at `step`. */
async function killedAt(step: string): Promise<void> {
  const env = await testEnv(`kill-${step.replace(/[^a-z]/g, '')}`);
  const prefix = `${env.prefix}ps:`;
  const svcEnv = {
    ...env.childEnv,
    LOG_LEVEL: 'info',
    REDIS_PREFIX: prefix,
    STITCHER_GROUP_ID: `${env.prefix}p`,
    STITCHER_OPS_PORT: '0',
    STITCHER_SESSION_TIMEOUT_MS: '6000',
  };
  const setup = [
    purchase('a1', { user_id: 'U' }, now - 3 * DAY),
    purchase('a2', { user_id: 'U' }, now - 3 * DAY + 1),
    purchase('b1', { email: 'e@x.com' }, now - 2 * DAY),
    purchase('b2', { email: 'e@x.com' }, now - 2 * DAY + 1),
  ];
  const link = purchase('link', { user_id: 'U', email: 'e@x.com' }, now - DAY);
  await produce(env, setup);
  const first = startService(svcEnv, 'purchases');
  await waitCommitted(env.kafka, `${env.prefix}p`, env.topics.purchases.topic);
  assert.equal(await stopService(first), 0, first.stderr());

  await produce(env, [link]);
  const dying = startService({ ...svcEnv, STITCHER_KILL_AT: step }, 'purchases');
  const [code, signal] = (await once(dying.child, 'exit')) as [number | null, string | null];
  assert.equal(signal, 'SIGKILL', `the stitcher killed itself at ${step} (exit ${code}): ${dying.stderr()}`);

  const again = startService(svcEnv, 'purchases');
  await waitCommitted(env.kafka, `${env.prefix}p`, env.topics.purchases.topic, 120_000);
  assert.equal(await stopService(again), 0, again.stderr());

  const store = new ProfileStore({ redis, prefix, windowMs: 90 * DAY });
  const [customer] = oracleProfiles([...setup, link].map((value) => ({ topic: 'purchases', value })));
  const root = await store.owner('user_id', 'U');
  assert.equal(await store.owner('email', 'e@x.com'), root, 'one customer');
  assert.deepEqual((await store.read(root!))!.doc, customer!.doc, 'each order counted once');
  assert.deepEqual(violations(await snapshot(redis, keySpace(prefix)), { settled: true }), []);
  const log = await redis.xrange(keySpace(prefix).mergeLog, '-', '+');
  assert.equal(log.filter(([, f]) => f[1] === 'merged').length, 1, 'the merge is logged once');
  const merged = runCli(['consume', env.topics['profile-merged'].topic], { env: env.childEnv });
  assert.equal(merged.status, 0, merged.stderr);
  const ids = new Set(
    merged.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { event_id: string; outcome: string }).event_id),
  );
  assert.equal(ids.size, 1, `one merge announced (redeliveries carry the same id): ${[...ids].join(', ')}`);
}

const STEPS = ['merge:prepare', 'merge:seal', 'merge:copy-seen', 'merge:absorb', 'merge:cleanup', 'fold', 'journal:done'];

test('SIGKILL between every two steps of a merge, then a restart: the merge completes exactly once', async () => {
  // All cases at once (each its own topics, group and keys): each is mostly waiting on start-up and rebalances.
  const results = await Promise.allSettled(STEPS.map(killedAt));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${STEPS[i]}: ${String(r.reason)}`] : []));
  assert.deepEqual(failed, []);
});
