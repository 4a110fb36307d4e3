/**
 * RFM breakpoint versions on the real Redis: numbered without gaps or sharing under concurrent publishers, the
 * history bounded, the lease taken by one owner at a time, the backfilled mark never going back, and a corrupt
 * document refused with the key's name.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { populationModel, versionDoc, type PopulationQuintiles } from './rfm-population.ts';
import { RFM_VERSIONS_KEPT, RfmVersions } from './rfm-versions.ts';

const redis = new Redis(process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? 6379}`);
const prefix = `t-rfmv-${randomBytes(3).toString('hex')}:`;
const versions = new RfmVersions(redis, prefix);
afterAll(async () => {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const DAY = 86_400_000;
const doc = (i: number) => {
  const q: PopulationQuintiles = {
    customers: 100 + i,
    recencyAges: [400 * DAY, 100 * DAY, 30 * DAY, 2 * DAY],
    frequency: [1, 2, 4, 8],
    // beyond cjson's 14 significant digits: stored as sent
    monetary: { GBP: { customers: 100, quintiles: [10, 2000, 30_000, 123_456_789_012_345] } },
  };
  const m = populationModel(q, 50);
  assert.ok(m.ok);
  return versionDoc(q, m.model, m.skipped, Date.UTC(2026, 0, 1) + i, Date.UTC(2026, 0, 1));
};

test('versions: none at first; each publish is the next number and current; concurrent publishers never share one; the history keeps the last 20', async () => {
  assert.equal(await versions.currentVersion(), 0);
  assert.equal(await versions.current(), null);
  const first = await versions.publish(doc(0));
  assert.equal(first.version, 1);
  assert.deepEqual(await versions.current(), first);
  assert.equal(first.breakpoints.monetary.GBP![3], 123_456_789_012_346);
  const many = await Promise.all(Array.from({ length: 24 }, (_, i) => versions.publish(doc(i + 1))));
  assert.deepEqual(
    many.map((v) => v.version).sort((a, b) => a - b),
    Array.from({ length: 24 }, (_, i) => i + 2),
  );
  assert.equal(await versions.currentVersion(), 25);
  assert.equal((await versions.current())!.version, 25);
  const history = await versions.history();
  assert.equal(history.length, RFM_VERSIONS_KEPT);
  assert.deepEqual(
    history.map((v) => v.version),
    Array.from({ length: RFM_VERSIONS_KEPT }, (_, i) => 25 - i),
  );
});

test('the lease: one owner at a time, renewable by its owner, released only by it', async () => {
  assert.equal(await versions.lock('backfill', 'a', 5000), true);
  assert.equal(await versions.lock('backfill', 'b', 5000), false);
  assert.equal(await versions.lock('backfill', 'a', 5000), true, 'renewed');
  await versions.unlock('backfill', 'b');
  assert.equal(await versions.lock('backfill', 'b', 5000), false, 'b cannot release a');
  await versions.unlock('backfill', 'a');
  assert.equal(await versions.lock('backfill', 'b', 50), true);
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(await versions.lock('backfill', 'a', 5000), true, 'a lapsed lease is taken');
});

test('the backfilled mark never goes back; a corrupt current document is refused naming the key', async () => {
  assert.equal(await versions.backfilled(), 0);
  await versions.markBackfilled(4);
  await versions.markBackfilled(3);
  assert.equal(await versions.backfilled(), 4);
  await redis.set(versions.keys.current, JSON.stringify({ ...(await versions.current()), breakpoints: { recency_ms: [3, 2, 1, 0] } }));
  await assert.rejects(versions.current(), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'config_invalid');
    assert.ok(err.message.startsWith(`${prefix}{rfm}:current: breakpoints.`), err.message);
    return true;
  });
});
