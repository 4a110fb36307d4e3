/**
 * Redis stopped and started again in the middle of a merge (before each of its steps): the step in flight fails as a
 * dependency outage would (the consume loop retries the chunk), and once Redis is back the retried chunk completes
 * the merge exactly once: nothing lost, nothing counted twice, every invariant holds. A Redis of the test's own
 * (AOF fsync always, so a restart keeps every acknowledged write).
 */
import assert from 'node:assert/strict';
import { afterAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { asRedisError, isRetriable } from '@profile-stream/consumer-kit';
import { ProfileStore, type GateStep } from '@profile-stream/profile';
import { convergenceErrors, Gates, stitchItem, type TestEvent } from '@profile-stream/profile/testing';
import { freePort, ownRedis, type OwnRedis } from './support/redis-server.ts';

let server: OwnRedis | undefined;
afterAll(() => server?.kill());

const STEPS: GateStep[] = ['merge:prepare', 'merge:seal', 'merge:copy-seen', 'merge:absorb', 'merge:cleanup', 'fold', 'journal:done'];

test('Redis restarted before every step of a merge: the retried chunk completes it exactly once', async () => {
  server = ownRedis(await freePort());
  await server.start();
  for (const step of STEPS) {
    const prefix = `t-restart-${step.replace(/[^a-z]/g, '')}:`;
    let t = 1_700_000_000_000;
    const open = (gates?: Gates) => {
      const redis = new Redis(server!.url, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 100, 1000) });
      redis.on('error', () => {}); // the outage is the point; each command reports it
      return { redis, store: new ProfileStore({ redis, prefix, windowMs: 90 * 86_400_000, now: () => t++, ...(gates ? { gate: gates.gate } : {}) }) };
    };
    const a = open();
    const ev = (id: string, ids: TestEvent['ids'], amount: number): TestEvent => ({ id, ids, amount, at: 1_700_000_000_000 });
    const setup = [ev('s1', { user_id: 'U' }, 10), ev('m1', { email: 'e@x.com' }, 1000), ev('m2', { email: 'e@x.com' }, 5)];
    for (const e of setup) await a.store.resolver.settle((await a.store.stitch([stitchItem(e)])).merges);

    const gates = new Gates();
    const pause = gates.pause(step);
    const b = open(gates);
    const chunk = [ev('link', { user_id: 'U', email: 'e@x.com' }, 1), ev('m1', { email: 'e@x.com' }, 1000)]; // with a redelivery
    const run = b.store.stitch(chunk.map(stitchItem)).then(async (r) => b.store.resolver.settle(r.merges));
    await pause.reached;
    await server.stop();
    pause.release();
    const failure = await run.then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(failure, `before ${step}: the step in flight failed while Redis was down`);
    assert.equal(isRetriable(asRedisError(failure)), true, `before ${step}: a retriable failure (${String(failure)})`);
    await server.start();
    // The consume loop retries the uncommitted chunk (a fresh process here: nothing is remembered in memory).
    const c = open();
    await c.store.resolver.settle((await c.store.stitch(chunk.map(stitchItem))).merges);
    assert.deepEqual(await convergenceErrors(c.redis, c.store, [...setup, ...chunk]), [], `before ${step}`);
    for (const x of [a, b, c]) x.redis.disconnect();
  }
});
