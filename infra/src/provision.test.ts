/** Topic specs carry the retention policy: inputs by time, profile-changes compacted, DLQs kept for replay. */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { resolveTopics } from '@profile-stream/contracts';
import { DEFAULT_TOPIC_POLICY, DLQ_RETENTION_MS, formatRetention, loadTopicPolicy, topicSpecs } from './provision.ts';

test('inputs get retention.ms, profile-changes compaction within the lag, DLQs their own retention, the rest nothing', () => {
  const specs = new Map(
    topicSpecs(resolveTopics({ prefix: 'x.' }), 3, { inputRetentionMs: 5 * 86_400_000, compactionLagMs: 7_200_000 }).map((s) => [s.topic, s]),
  );
  assert.deepEqual(specs.get('x.clickstream')?.config, { 'retention.ms': String(5 * 86_400_000) });
  assert.deepEqual(specs.get('x.clickstream.dlq')?.config, { 'retention.ms': String(DLQ_RETENTION_MS) });
  const pc = specs.get('x.profile-changes')?.config ?? {};
  assert.equal(pc['cleanup.policy'], 'compact,delete');
  assert.equal(pc['max.compaction.lag.ms'], '7200000');
  assert.equal(pc['min.compaction.lag.ms'], '0');
  assert.ok(Number(pc['segment.ms']) <= 7_200_000, 'the active segment rolls within the bound');
  assert.ok(Number(pc['delete.retention.ms']) <= 3_600_000);
  assert.equal(specs.get('x.profile-merged')?.config, undefined);
  assert.equal(specs.get('x.profile-changes')?.partitions, 3);
});

test('the settings: days and hours, defaults 7 d and 24 h, bad values named', () => {
  assert.deepEqual(loadTopicPolicy({}), DEFAULT_TOPIC_POLICY);
  assert.deepEqual(loadTopicPolicy({ INPUT_RETENTION_DAYS: '3', PROFILE_TOPIC_COMPACTION_HOURS: '2' }), {
    inputRetentionMs: 3 * 86_400_000,
    compactionLagMs: 7_200_000,
  });
  assert.throws(() => loadTopicPolicy({ PROFILE_TOPIC_COMPACTION_HOURS: '0' }), /PROFILE_TOPIC_COMPACTION_HOURS/);
});

test('durations read as people say them', () => {
  assert.equal(formatRetention(604_800_000), '7 d');
  assert.equal(formatRetention(86_400_000), '1 d');
  assert.equal(formatRetention(7_200_000), '2 h');
  assert.equal(formatRetention(90_000), '90 s');
  assert.equal(formatRetention(1500), '1500 ms');
  assert.equal(formatRetention(-1), 'forever');
  assert.equal(formatRetention(undefined), '');
});
