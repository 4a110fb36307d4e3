/**
 * Redis answering BUSY (a long script on the server) under a running stitcher: the error replies are transient, so
 * the stitcher backs off and retries while heartbeating; nothing goes to the DLQ, nothing is committed before it is
 * applied, and the profiles end equal to the oracle. Uses a Redis server of its own (busy-reply-threshold 100 ms).
 */
import assert from 'node:assert/strict';
import { afterAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { generate, type GeneratedRecord } from '@profile-stream/generator';
import { testEnv } from './support/index.ts';
import { freePort, ownRedis, type OwnRedis } from './support/redis-server.ts';
import { assertOracleProfiles, produceRecords, startService, stopService, waitCommitted } from './support/pipeline.ts';

const DAY = 86_400_000;
let server: OwnRedis | undefined;
afterAll(() => server?.kill());

/** Keeps the server inside one script for `seconds`: every other client gets BUSY meanwhile. */
const BUSY_LOOP = `local t = redis.call('TIME') while true do local n = redis.call('TIME') if (n[1] - t[1]) >= tonumber(ARGV[1]) then break end end return 1`;

test('BUSY replies are retried, never dead-lettered: every event is folded once the script ends', async () => {
  const env = await testEnv('busy');
  const port = await freePort();
  server = ownRedis(port, ['--busy-reply-threshold', '100']);
  await server.start();
  const group = `${env.prefix}cs`;
  const svc = startService(
    { ...env.childEnv, LOG_LEVEL: 'warn', REDIS_URL: server.url, REDIS_PREFIX: 'b:', STITCHER_GROUP_ID: group, STITCHER_OPS_PORT: '0' },
    'clickstream',
  );
  const all: GeneratedRecord[] = [...generate({ seed: 17, customers: 30, days: 3, start: Date.now() - 4 * DAY, malformedRate: 0, junkRate: 0 })].filter(
    (r) => r.topic === 'clickstream',
  );
  const half = Math.floor(all.length / 2);
  const blocker = new Redis(port);
  try {
    await produceRecords(env, all.slice(0, half));
    await waitCommitted(env.kafka, group, env.topics.clickstream.topic);
    const busy = blocker.eval(BUSY_LOOP, 0, 4);
    await new Promise((r) => setTimeout(r, 300)); // past the threshold: the server now answers BUSY
    await produceRecords(env, all.slice(half));
    await busy;
    await waitCommitted(env.kafka, group, env.topics.clickstream.topic, 90_000);
    assert.match(svc.stderr(), /BUSY Redis is busy running a script/, 'the stitcher met BUSY replies and retried');

    const admin = env.kafka.admin();
    await admin.connect();
    const dlq = await admin.fetchTopicOffsets(env.topics.clickstream.dlq!);
    await admin.disconnect();
    assert.deepEqual(
      dlq.map((p) => p.high),
      dlq.map(() => '0'),
      'nothing was dead-lettered',
    );

    const redis = new Redis(port);
    try {
      await assertOracleProfiles(redis, 'b:', all);
    } finally {
      redis.disconnect();
    }
  } finally {
    blocker.disconnect();
    assert.equal(await stopService(svc), 0, svc.stderr());
  }
});
