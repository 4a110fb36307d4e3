/**
 * The segmenter refuses to start on a bad setting or an invalid definition, naming it, without touching anything; it,
 * the profile API and the CLI refuse another SEGMENTER_SHARDS than the deployment's memberships are placed with.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'vitest';
import { Redis } from 'ioredis';
import { REPO_ROOT } from '@profile-stream/consumer-kit';
import { NODE_FLAGS, runCli, testEnv, waitUntil } from './support/index.ts';
import { startService, stopService } from './support/pipeline.ts';

const run = (env: NodeJS.ProcessEnv, service = 'segmenter') =>
  spawnSync(process.execPath, [...NODE_FLAGS, resolve(REPO_ROOT, `services/${service}/src/main.ts`)], {
    cwd: REPO_ROOT,
    env: { ...process.env, SEGMENTER_OPS_PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });

test('a bad setting stops the start with the variable named', () => {
  for (const [name, value, expected] of [
    ['SEGMENTER_SHARDS', '0', /SEGMENTER_SHARDS/],
    ['SEGMENTER_ROLES', 'evaluate,publish', /SEGMENTER_ROLES: expected a comma-separated subset of evaluate, relay, schedule/],
    ['SEGMENT_PARAMS', '{"high-value":3}', /SEGMENT_PARAMS/],
  ] as const) {
    const r = run({ [name]: value });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^segmenter: config_invalid: /m);
    assert.match(r.stderr, expected);
  }
});

test('an invalid definition or an override of an unknown parameter stops the start with file, path and reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'segments-bad-'));
  writeFileSync(
    join(dir, 'vip.yaml'),
    'id: vip\nversion: 1\nname: VIP\ndescription: d\ncondition:\n  all:\n    - { field: transactions.lifetime_value, gte: 5 }\n',
  );
  const r = run({ SEGMENTS_DIR: dir });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^segmenter: invalid_definition: .*vip\.yaml at condition\.all\.0.*unknown profile field/m);
  const p = run({ SEGMENT_PARAMS: '{"high-value":{"threshold_jpy_minor":1}}' });
  assert.equal(p.status, 1, p.stderr);
  assert.match(p.stderr, /high-value\.yaml at params\.threshold_jpy_minor: override of an undeclared parameter/);
});

test('another SEGMENTER_SHARDS than the memberships are placed with: the segmenter, the profile API and `segments list` refuse it, naming it', async () => {
  const env = await testEnv('seg-shards');
  const prefix = `${env.prefix}ps:`;
  const base = { ...env.childEnv, REDIS_PREFIX: prefix, SEGMENTER_GROUP_ID: `${env.prefix}seg`, PROFILE_API_PORT: '0' };
  // The first contact records the count: a segmenter with 4 shards starts and stops cleanly.
  const first = startService({ ...base, SEGMENTER_SHARDS: '4', SEGMENTER_OPS_PORT: '0', LOG_LEVEL: 'info' }, 'segmenter');
  try {
    await waitUntil('the segmenter to start', () => first.started() || first.child.exitCode !== null, 60_000);
  } finally {
    assert.equal(await stopService(first), 0, first.stderr());
  }
  const redis = new Redis(env.conn.redis.url);
  try {
    assert.equal(await redis.get(`${prefix}seg:shards`), '4');
  } finally {
    redis.disconnect();
  }
  const placed = /SEGMENTER_SHARDS: (8|16), but this deployment's memberships are placed on 4 shards .*set SEGMENTER_SHARDS=4/;
  const seg = run({ ...base, SEGMENTER_SHARDS: '8' });
  assert.equal(seg.status, 1, seg.stderr);
  assert.match(seg.stderr, /^segmenter: config_invalid: /m);
  assert.match(seg.stderr, placed);
  const api = run(base, 'profile-api'); // SEGMENTER_SHARDS unset: the default, 16
  assert.equal(api.status, 1, api.stderr);
  assert.match(api.stderr, /^profile-api: config_invalid: /m);
  assert.match(api.stderr, placed);
  const cli = runCli(['segments', 'list'], { env: { ...base, SEGMENTER_SHARDS: '16' } });
  assert.notEqual(cli.status, 0, cli.stdout);
  assert.match(cli.stderr, placed);
  // The recorded count is what they are told to use, and with it the CLI works.
  const ok = runCli(['segments', 'list', '--json'], { env: { ...base, SEGMENTER_SHARDS: '4' } });
  assert.equal(ok.status, 0, ok.stderr);
});
