/**
 * The loyalty stream end to end on the real stack (issue 15): generated customers, a share of them loyalty members
 * earning on their orders, tiers changing, redemptions; the four stitchers and the segmenter as processes. Profiles
 * equal the oracle's (loyalty section included); each member's balance and tier as the CLI shows them are the sums
 * and the latest tier of its events; bad loyalty events are dead-lettered with their reason; `loyalty-<tier>`
 * memberships follow the tiers.
 */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, test } from 'vitest';
import type { LoyaltyEvent } from '@profile-stream/contracts';
import { generate, type GeneratedRecord } from '@profile-stream/generator';
import { dlqList, runCli } from './support/index.ts';
import { assertOracleProfiles, INPUTS, produceRecords, startService, stopService, waitCommitted, type ServiceProcess } from './support/pipeline.ts';
import { DAY, membershipEvents, settle, setup, whileRunning, type Ctx } from './support/segments.ts';

let c: Ctx;
const records: GeneratedRecord[] = [];
const STITCHERS = [...INPUTS, 'loyalty'] as const;

beforeAll(async () => {
  c = await setup('loyalty');
});
afterAll(() => c.redis.disconnect());

/** Two bad loyalty events (valid Avro, refused by the stitcher's rules) of a member who is otherwise fine. */
function badEvents(at: number): GeneratedRecord[] {
  const base = { anonymous_id: null, user_id: 'u_loyalty_bad', email: null, phone: null, member_id: 'LM-BAD', reason: null, order_id: null, expires_at: null };
  const value = (v: Partial<LoyaltyEvent>) => ({ ...base, tier: null, points: null, type: 'points_earned', ...v }) as LoyaltyEvent;
  return [
    { topic: 'loyalty', key: 'u_loyalty_bad', value: value({ event_id: 'bad-points', occurred_at: at, type: 'points_earned', points: 0 }) },
    { topic: 'loyalty', key: 'u_loyalty_bad', value: value({ event_id: 'bad-tier', occurred_at: at, type: 'tier_changed', tier: 'diamond' }) },
  ];
}

test('generated loyalty members: profiles equal the oracle, balances and tiers are their events, bad events are dead letters', async () => {
  const start = Math.floor((Date.now() - 80 * DAY) / DAY) * DAY;
  for (const r of generate({ seed: 1515, customers: 150, days: 75, start, loyaltyShare: 0.5, malformedRate: 0.005, duplicateRate: 0.01 })) records.push(r);
  const loyalty = records.flatMap((r) => (!('malformed' in r) && r.topic === 'loyalty' ? [r.value] : []));
  assert.ok(
    loyalty.some((e) => e.type === 'tier_changed') && loyalty.some((e) => e.type === 'points_redeemed'),
    'the data set has tier changes and redemptions',
  );
  await produceRecords(c.env, [...records, ...badEvents(start + DAY)]);
  const services: ServiceProcess[] = STITCHERS.map((n) => startService({ ...c.childEnv, STITCHER_GROUP_ID: `${c.env.prefix}${n}` }, n));
  try {
    for (const n of STITCHERS) await waitCommitted(c.env.kafka, `${c.env.prefix}${n}`, c.env.topics[n].topic);
  } finally {
    for (const s of services) assert.equal(await stopService(s), 0, s.stderr());
  }
  await assertOracleProfiles(c.redis, `${c.env.prefix}ps:`, records);

  // Each member as the CLI shows it: balance = earned − redeemed, the tier of its latest tier event.
  const members = Map.groupBy(loyalty, (e) => e.member_id);
  let checked = 0;
  for (const [member, events] of [...members].slice(0, 8)) {
    const e0 = events[0]!;
    const ref = e0.user_id ? `user:${e0.user_id}` : e0.email ? `email:${e0.email}` : `phone:${e0.phone}`;
    const r = runCli(['profile', ref, '--json'], { env: c.childEnv });
    assert.equal(r.status, 0, r.stderr);
    const l = (JSON.parse(r.stdout) as { loyalty: { member_id: string; points_balance: number; lifetime_points: number; tier: string } }).loyalty;
    const unique = [...new Map(events.map((e) => [e.event_id, e])).values()];
    const sum = (type: string) => unique.filter((e) => e.type === type).reduce((s, e) => s + e.points!, 0);
    const tierEvents = unique.filter((e) => e.tier !== null && (e.type === 'enrolled' || e.type === 'tier_changed'));
    const latest = tierEvents.reduce((a, b) => (b.occurred_at > a.occurred_at || (b.occurred_at === a.occurred_at && b.event_id > a.event_id) ? b : a));
    assert.equal(l.member_id, member);
    assert.equal(l.lifetime_points, sum('points_earned'), member);
    assert.equal(l.points_balance, sum('points_earned') - sum('points_redeemed'), member);
    assert.equal(l.tier, latest.tier, member);
    checked++;
  }
  assert.ok(checked > 0);

  const reasons = dlqList(c.env.topics.loyalty.topic, c.childEnv).map((d) => d.reason);
  assert.ok(reasons.includes('invalid_points'), reasons.join(', '));
  assert.ok(reasons.includes('unknown_tier'), reasons.join(', '));
});

test('loyalty-<tier> segments: the last membership change of each member is entered for its current tier only', async () => {
  const seg = startService(c.childEnv, 'segmenter');
  await whileRunning(seg, () => settle(c));
  const events = membershipEvents(c).filter((e) => e.segment_id.startsWith('loyalty-'));
  assert.ok(events.length > 0, 'no loyalty-<tier> membership events');
  const last = new Map<string, (typeof events)[number]>();
  for (const e of events) {
    const k = `${e.profile_id}/${e.segment_id}`;
    if ((last.get(k)?.membership_version ?? 0) < e.membership_version) last.set(k, e);
  }
  const inTier = new Map<string, string>();
  for (const e of last.values()) {
    if (e.change !== 'entered') continue;
    assert.ok(!inTier.has(e.profile_id), `${e.profile_id} is in two tier segments`);
    inTier.set(e.profile_id, e.segment_id);
  }
  for (const [pid, segment] of [...inTier].slice(0, 10)) {
    const r = runCli(['profile', pid, '--json'], { env: c.childEnv });
    assert.equal(r.status, 0, r.stderr);
    const l = (JSON.parse(r.stdout) as { loyalty: { tier: string; status: string } }).loyalty;
    assert.equal(segment, `loyalty-${l.tier}`, pid);
    assert.equal(l.status, 'enrolled');
  }
});
