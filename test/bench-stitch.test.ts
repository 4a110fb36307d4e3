/**
 * `bench stitch` as a user runs it, with tiny sizes, on the real stack: its behaviour, not its speed. It reports the
 * raw consume and the stitcher's rate over every event it produced, the latency at the rate asked for and the identity
 * slot, and leaves nothing on the stack: its topics, consumer groups and Redis keys are gone after the run.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import { Redis } from 'ioredis';
import { beforeAll, test } from 'vitest';
import { globEscape, scanKeys } from '@profile-stream/profile';
import { spawnCli, testEnv, type TestEnv } from './support/index.ts';

let env: TestEnv;
beforeAll(async () => {
  env = await testEnv('bench-stitch');
});

test('reports every event through the stitcher and removes its topics, groups and Redis keys at the end', async () => {
  const { code, stdout, stderr } = await spawnCli(['bench', 'stitch', '-n', '600', '-r', '200'], env.childEnv);
  assert.equal(code, 0, `bench stitch failed:\n${stderr}`);
  const stitched = stdout.split('\n').find((l) => l.startsWith('one stitcher:'));
  assert.ok(stitched, stdout);
  assert.equal(Number(stitched.trim().split(/\s{2,}/)[1]), 600, 'every event produced went through the stitcher');
  assert.match(stdout, /identifier sets\s+chunks/);
  // the CPUs under each CPU table: figures of different hosts are not comparable
  const cpus = os.cpus();
  assert.ok(stdout.includes(`measured on ${cpus.length} × ${cpus[0]!.model.trim()}`), stdout);

  const prefix = /scratch prefix (bench-[0-9a-f]+\.)/.exec(stderr)?.[1];
  assert.ok(prefix, stderr);
  const redis = new Redis(env.conn.redis.url);
  try {
    const left = await scanKeys(redis, `${globEscape(prefix)}*`);
    assert.deepEqual(left, [], 'no Redis key of the run is left');
  } finally {
    redis.disconnect();
  }
  const admin = env.kafka.admin();
  await admin.connect();
  try {
    assert.deepEqual(
      (await admin.listTopics()).filter((t) => t.startsWith(prefix)),
      [],
      'no topic of the run is left',
    );
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId);
    assert.deepEqual(
      groups.filter((g) => g.startsWith(prefix)),
      [],
      'no consumer group of the run is left',
    );
  } finally {
    await admin.disconnect();
  }
});
