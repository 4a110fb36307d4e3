/**
 * Redis goes away under a running stitcher: it waits and retries, commits nothing it has not applied, and
 * resumes by itself when Redis is back; the profiles then equal the oracle. Uses a Redis server of its own
 * (same Debian binary as the stack, its own port and data dir) so the shared one stays up for other tests.
 */
import assert from 'node:assert/strict';
import { afterAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { generate, type GeneratedRecord } from '@profile-stream/generator';
import { testEnv } from './support/index.ts';
import { freePort, ownRedis, type OwnRedis } from './support/redis-server.ts';
import { assertOracleProfiles, produceRecords, startService, stopService, waitCommitted } from './support/pipeline.ts';

const DAY = 86_400_000;
let redisServer: OwnRedis | undefined;
afterAll(() => redisServer?.kill());

test('Redis down: the stitcher commits nothing it has not applied and resumes by itself when Redis is back', async () => {
  const env = await testEnv('outage');
  const port = await freePort();
  redisServer = ownRedis(port);
  await redisServer.start();
  const group = `${env.prefix}cs`;
  const svc = startService(
    { ...env.childEnv, REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_PREFIX: 'o:', STITCHER_GROUP_ID: group, STITCHER_OPS_PORT: '0' },
    'clickstream',
  );
  const start = Math.floor((Date.now() - 5 * DAY) / DAY) * DAY;
  const all: GeneratedRecord[] = [...generate({ seed: 7, customers: 40, days: 4, start, malformedRate: 0 })].filter((r) => r.topic === 'clickstream');
  const half = Math.floor(all.length / 2);
  try {
    await produceRecords(env, all.slice(0, half));
    await waitCommitted(env.kafka, group, env.topics.clickstream.topic);

    await redisServer.stop();
    await produceRecords(env, all.slice(half));
    // While Redis is down nothing new may be committed.
    const admin = env.kafka.admin();
    await admin.connect();
    const committed = async () =>
      (await admin.fetchOffsets({ groupId: group, topics: [env.topics.clickstream.topic] }))[0]!.partitions.reduce(
        (s, p) => s + Math.max(0, Number(p.offset)),
        0,
      );
    const before = await committed();
    await new Promise((r) => setTimeout(r, 4000)); // the outage lasts a while; the service keeps retrying
    assert.equal(await committed(), before, 'no offset moved while Redis was down');
    assert.equal(before, half);
    await admin.disconnect();
    assert.equal(svc.child.exitCode, null, 'the service is still running (no crash loop)');

    await redisServer.start();
    await waitCommitted(env.kafka, group, env.topics.clickstream.topic, 90_000);
    const redis = new Redis(port);
    try {
      await assertOracleProfiles(redis, 'o:', all);
    } finally {
      redis.disconnect();
    }
  } finally {
    assert.equal(await stopService(svc), 0, svc.stderr());
  }
});
