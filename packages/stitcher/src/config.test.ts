/** Stitcher settings: the shared ones plus its own, each stitcher on its own ops port and group. */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { ConfigError, OPS_PORTS } from '@profile-stream/consumer-kit';
import { loadStitcherConfig, type InputTopicId } from './config.ts';

test("each input topic's stitcher has its own default group and ops port; STITCHER_OPS_PORT=0 picks a free one", () => {
  for (const id of ['clickstream', 'purchases', 'support-tickets'] as InputTopicId[]) {
    const c = loadStitcherConfig(id, {});
    assert.equal(c.service, `${id}-stitcher`);
    assert.equal(c.groupId, `profile-stream.${id}-stitcher`);
    assert.equal(c.opsPort, OPS_PORTS[id]);
    assert.equal(loadStitcherConfig(id, { STITCHER_OPS_PORT: '0' }).opsPort, 0);
  }
});

test('own settings and shared ones come from the same env', () => {
  const c = loadStitcherConfig('purchases', {
    STITCHER_KILL_AT: 'merge:seal#2',
    PROFILE_DEDUP_WINDOW_DAYS: '7',
    PROFILE_JUNK_IDS: 'guest',
    REDIS_PREFIX: 't-1.ps:',
    LOG_LEVEL: 'error',
  });
  assert.deepEqual(c.killAt, { step: 'merge:seal', n: 2 });
  assert.deepEqual(loadStitcherConfig('purchases', { STITCHER_KILL_AT: 'fold' }).killAt, { step: 'fold', n: 1 });
  assert.equal(c.windowMs, 7 * 86_400_000);
  assert.deepEqual(c.junkIds, ['guest']);
  assert.equal(c.redisPrefix, 't-1.ps:');
  assert.equal(c.logLevel, 'error');
  // fetch batching: off by default (answered at the first event), on with a minimum size
  assert.deepEqual([c.fetchMinBytes, c.fetchMaxWaitMs], [1, 100]);
  const batching = loadStitcherConfig('loyalty', { STITCHER_FETCH_MIN_BYTES: '65536', STITCHER_FETCH_MAX_WAIT_MS: '250' });
  assert.deepEqual([batching.fetchMinBytes, batching.fetchMaxWaitMs], [65536, 250]);
});

test('STITCHER_ALSO_TOPICS: more input topics in the same process and group, a service of its own; a wrong one names the variable', () => {
  const c = loadStitcherConfig('purchases', { STITCHER_ALSO_TOPICS: ' loyalty ,' });
  assert.deepEqual(c.topicIds, ['purchases', 'loyalty']);
  assert.equal(c.service, 'purchases+loyalty-stitcher');
  assert.equal(c.groupId, 'profile-stream.purchases+loyalty-stitcher');
  assert.equal(c.opsPort, OPS_PORTS.purchases);
  assert.deepEqual(loadStitcherConfig('purchases', {}).topicIds, ['purchases'], 'none by default');
  for (const [value, says] of [
    ['profile-changes', /not an input topic/],
    ['purchases', /named twice/],
    ['loyalty,loyalty', /named twice/],
  ] as const) {
    assert.throws(
      () => loadStitcherConfig('purchases', { STITCHER_ALSO_TOPICS: value }),
      (err: unknown) => err instanceof ConfigError && err.variable === 'STITCHER_ALSO_TOPICS' && says.test(err.message),
      value,
    );
  }
});

test('a bad value names the variable', () => {
  for (const [name, value] of [
    ['STITCHER_OPS_PORT', '-1'],
    ['STITCHER_KILL_AT', 'Merge'],
    ['STITCHER_SESSION_TIMEOUT_MS', '100'],
    ['STITCHER_FETCH_MIN_BYTES', '0'],
    ['STITCHER_FETCH_MAX_WAIT_MS', 'soon'],
    ['REDIS_PREFIX', '{x}'],
  ]) {
    assert.throws(
      () => loadStitcherConfig('clickstream', { [name!]: value }),
      (err: unknown) => err instanceof ConfigError && err.variable === name,
    );
  }
});
