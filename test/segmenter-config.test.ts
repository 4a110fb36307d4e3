/** The segmenter refuses to start on a bad setting or an invalid definition, naming it, without touching anything. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'vitest';
import { REPO_ROOT } from '@profile-stream/consumer-kit';
import { NODE_FLAGS } from './support/index.ts';

const run = (env: NodeJS.ProcessEnv) =>
  spawnSync(process.execPath, [...NODE_FLAGS, resolve(REPO_ROOT, 'services/segmenter/src/main.ts')], {
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
