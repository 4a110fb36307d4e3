/**
 * One stitcher process for several input topics (STITCHER_ALSO_TOPICS), on the real stack: the purchases stitcher
 * also consuming clickstream, support-tickets and loyalty in the same consumer group. Generated customers (loyalty
 * members among them) end up exactly as the oracle says, as they do with a stitcher per topic (the fold does not
 * care which topic an event came from); every profile-changes record names its trigger event's topic; a bad event
 * goes to its own topic's DLQ with its reason.
 */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, test } from 'vitest';
import type { LoyaltyEvent } from '@profile-stream/contracts';
import { generate } from '@profile-stream/generator';
import { dlqList, runCli } from './support/index.ts';
import { assertOracleProfiles, produceRecords, startService, stopService, waitCommitted } from './support/pipeline.ts';
import { DAY, setup, type Ctx } from './support/segments.ts';

let c: Ctx;
const TOPICS = ['purchases', 'clickstream', 'support-tickets', 'loyalty'] as const;

beforeAll(async () => {
  c = await setup('several');
});
afterAll(() => c.redis.disconnect());

test('one stitcher of four topics: profiles equal the oracle, each change names its trigger topic, bad events reach their own DLQ', async () => {
  const start = Math.floor((Date.now() - 50 * DAY) / DAY) * DAY;
  const records = [...generate({ seed: 4242, customers: 90, days: 45, start, loyaltyShare: 0.5, duplicateRate: 0.01, malformedRate: 0 })];
  for (const t of TOPICS)
    assert.ok(
      records.some((r) => r.topic === t),
      `the data set has ${t} events`,
    );
  const bad: LoyaltyEvent = {
    event_id: 'bad-tier',
    occurred_at: start + DAY,
    anonymous_id: null,
    user_id: 'u_several_bad',
    email: null,
    phone: null,
    member_id: 'LM-SEVERAL',
    type: 'tier_changed',
    tier: 'diamond',
    points: null,
    reason: null,
    order_id: null,
    expires_at: null,
  };
  await produceRecords(c.env, [...records, { topic: 'loyalty', key: 'u_several_bad', value: bad }]);

  const group = `${c.env.prefix}several`;
  const stitcher = startService({ ...c.childEnv, STITCHER_GROUP_ID: group, STITCHER_ALSO_TOPICS: 'clickstream,support-tickets,loyalty' }, 'purchases');
  try {
    for (const t of TOPICS) await waitCommitted(c.env.kafka, group, c.env.topics[t].topic);
  } finally {
    assert.equal(await stopService(stitcher), 0, stitcher.stderr());
  }
  assert.match(stitcher.stderr(), /"service":"purchases\+clickstream\+support-tickets\+loyalty-stitcher"/);
  await assertOracleProfiles(c.redis, `${c.env.prefix}ps:`, records);

  // Each change's source_topic is the topic of the event that triggered it.
  const topicOf = new Map(records.flatMap((r) => ('malformed' in r ? [] : [[r.value.event_id, c.env.topics[r.topic].topic] as const])));
  const out = runCli(['consume', c.env.topics['profile-changes'].topic], { env: c.childEnv });
  assert.equal(out.status, 0, out.stderr);
  const changes = out.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { trigger_event_id: string; source_topic: string | null; cause: string });
  assert.ok(changes.length > 0);
  const seen = new Set<string>();
  for (const ch of changes.filter((x) => x.cause === 'event')) {
    assert.equal(ch.source_topic, topicOf.get(ch.trigger_event_id), ch.trigger_event_id);
    seen.add(ch.source_topic!);
  }
  assert.deepEqual([...seen].sort(), TOPICS.map((t) => c.env.topics[t].topic).sort(), 'changes triggered from every topic');

  assert.deepEqual(
    dlqList(c.env.topics.loyalty.topic, c.childEnv).map((d) => d.reason),
    ['unknown_tier'],
  );
});
