/** Segmenter settings: defaults, roles, parameter overrides (the documented example is a real override). */
import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { ConfigError, OPS_PORTS, REPO_ROOT } from '@profile-stream/consumer-kit';
import { loadDefinitions } from '@profile-stream/segments';
import { loadSegmenterConfig, ROLES, SEGMENT_PARAMS_EXAMPLE } from './config.ts';

const fails = (env: Record<string, string>, variable: string, message: RegExp) =>
  assert.throws(
    () => loadSegmenterConfig(env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.variable, variable);
      assert.match(err.message, message);
      return true;
    },
  );

describe('segmenter config', () => {
  test('defaults', () => {
    const c = loadSegmenterConfig({});
    assert.equal(c.opsPort, OPS_PORTS.segmenter);
    assert.equal(c.groupId, 'profile-stream.segmenter');
    assert.equal(c.segmentsDir, `${REPO_ROOT}/segments`);
    assert.deepEqual(c.params, {});
    assert.deepEqual([...c.roles], [...ROLES]);
    assert.equal(c.redisPrefix, 'ps:');
    assert.equal(c.topics['profile-changes'].topic, 'profile-changes');
  });

  test('roles: a comma-separated subset; anything else names the variable and the choices', () => {
    assert.deepEqual([...loadSegmenterConfig({ SEGMENTER_ROLES: ' relay , schedule' }).roles], ['relay', 'schedule']);
    fails(
      { SEGMENTER_ROLES: 'evaluate,publish' },
      'SEGMENTER_ROLES',
      /expected a comma-separated subset of evaluate, relay, schedule \(got "evaluate,publish"\)/,
    );
    fails({ SEGMENTER_ROLES: ',' }, 'SEGMENTER_ROLES', /expected a comma-separated subset/);
  });

  test('the SEGMENT_PARAMS example overrides a parameter the shipped definition declares', async () => {
    const c = loadSegmenterConfig({ SEGMENT_PARAMS: SEGMENT_PARAMS_EXAMPLE });
    const [id, overrides] = Object.entries(JSON.parse(SEGMENT_PARAMS_EXAMPLE) as Record<string, Record<string, unknown>>)[0]!;
    assert.deepEqual(c.params, { [id]: overrides });
    const defs = await loadDefinitions(c.segmentsDir, { params: c.params });
    const def = defs.find((d) => d.id === id);
    assert.ok(def, `shipped segment ${id}`);
    for (const [param, value] of Object.entries(overrides)) assert.equal(def.params[param], value);
  });

  test('bad SEGMENT_PARAMS name the variable and show the example', () => {
    const example = SEGMENT_PARAMS_EXAMPLE.replace(/[{}]/g, (c) => `\\${c}`);
    fails({ SEGMENT_PARAMS: 'threshold=1' }, 'SEGMENT_PARAMS', new RegExp(`expected JSON like ${example}`));
    fails({ SEGMENT_PARAMS: '{"high-value":3}' }, 'SEGMENT_PARAMS', new RegExp(`segment id → \\{param: value\\}, e.g. ${example}`));
    fails({ SEGMENT_PARAMS: '[1]' }, 'SEGMENT_PARAMS', /segment id → \{param: value\}/);
  });
});
