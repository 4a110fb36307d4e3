// Loyalty events of the generator against the orders they come from: each earn names a completed order of the same
// customer (same identifiers, a point per whole currency unit, after it), balances never go negative, tiers follow
// the thresholds, every event is a valid LoyaltyEvent; switching loyalty on changes no other event (but its id).
import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { DEFAULT_LOYALTY_TIERS, fromPlainJson, LoyaltyEventSchema } from '@profile-stream/contracts';
import { generate, isMalformed, type GeneratorOptions, type ValidRecord } from './index.ts';
import { TIER_THRESHOLDS } from './loyalty.ts';

const BASE: GeneratorOptions = { seed: 7, customers: 400, start: Date.UTC(2025, 0, 1), days: 120, malformedRate: 0, duplicateRate: 0, junkRate: 0 };
const valid = (o: GeneratorOptions) => [...generate(o)].filter((r): r is ValidRecord => !isMalformed(r));
const on = valid({ ...BASE, loyaltyShare: 0.5 });
const loyalty = on.flatMap((r) => (r.topic === 'loyalty' ? [r.value] : []));

describe('generator loyalty events', () => {
  test('off by default; on, no other event changes but for its event id', () => {
    const off = valid(BASE);
    assert.ok(!off.some((r) => r.topic === 'loyalty'));
    // event ids are drawn in sequence over all events, so they shift: the rest of every event is the same
    const strip = (rs: ValidRecord[]) => rs.map((r) => JSON.stringify({ ...r, value: { ...r.value, event_id: '' } }));
    const a = strip(on.filter((r) => r.topic !== 'loyalty'));
    const b = strip(off);
    const first = a.findIndex((x, i) => x !== b[i]);
    assert.equal(first, -1, `first difference: ${a[first]} vs ${b[first]}`);
    assert.equal(a.length, b.length);
    assert.ok(loyalty.length > 100, `only ${loyalty.length} loyalty events`);
    for (const type of ['enrolled', 'points_earned', 'points_redeemed', 'tier_changed'])
      assert.ok(
        loyalty.some((e) => e.type === type),
        type,
      );
  });

  test('earns follow completed orders of the same customer: a point per whole unit, one minute later, expiring; one identity per member', () => {
    const orders = new Map(on.flatMap((r) => (r.topic === 'purchases' && r.value.status === 'completed' ? [[r.value.order_id, r.value] as const] : [])));
    for (const e of loyalty.filter((x) => x.type === 'points_earned')) {
      const o = orders.get(e.order_id!);
      assert.ok(o, `earn ${e.event_id} names no completed order`);
      assert.equal(e.points, Math.floor(o.total_minor / 100));
      assert.equal(e.occurred_at, o.occurred_at + 60_000);
      assert.ok(e.expires_at! > e.occurred_at);
      const index = (id: string) => Number.parseInt(id, 36);
      assert.equal(index(o.order_id.split('_')[1]!), index(e.member_id.slice(3)), 'the member is the customer who ordered');
    }
  });

  test('every event of a member carries the identifiers it enrolled with', () => {
    const first = new Map<string, string>();
    for (const e of loyalty) {
      const ids = JSON.stringify([e.anonymous_id, e.user_id, e.email, e.phone]);
      assert.equal(first.get(e.member_id) ?? ids, ids, e.member_id);
      first.set(e.member_id, ids);
    }
  });

  test('per member in time order: enrolled first, balance never negative, tiers by lifetime points, valid events', () => {
    const byMember = Map.groupBy(loyalty, (e) => e.member_id);
    for (const [member, events] of byMember) {
      events.sort((a, b) => a.occurred_at - b.occurred_at);
      assert.equal(events[0]!.type, 'enrolled', member);
      let balance = 0;
      let lifetime = 0;
      for (const e of events) {
        fromPlainJson(LoyaltyEventSchema, e);
        if (e.type === 'points_earned') {
          balance += e.points!;
          lifetime += e.points!;
        }
        if (e.type === 'points_redeemed') balance -= e.points!;
        assert.ok(balance >= 0, `${member} overdrawn at ${e.event_id}`);
        if (e.type === 'tier_changed') assert.ok(lifetime >= TIER_THRESHOLDS[DEFAULT_LOYALTY_TIERS.indexOf(e.tier!)]!, `${member}: ${e.tier} at ${lifetime}`);
      }
    }
  });
});
