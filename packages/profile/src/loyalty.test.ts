// The loyalty section against an oracle written from the rules in loyalty.ts's header (fast-check: any arrival
// order, redeliveries), the bad-input rules, and the worked cases the README describes.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import fc from 'fast-check';
import type { LoyaltyEvent } from '@profile-stream/contracts';
import { loyaltyEvent } from '@profile-stream/contracts/testing';
import { cmpStr } from './doc.ts';
import { foldEvents } from './fold.ts';
import type { FoldInput } from './fold.ts';
import { normaliseIdentifiers } from './normalise.ts';
import { streamArb } from './testing/arbitraries.ts';
import { validateEvent } from './validate.ts';
import { profileView } from './view.ts';

const T0 = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/** The loyalty view computed straight from the distinct events, with no document and no join. */
function oracle(all: readonly LoyaltyEvent[]) {
  const byId = new Map<string, LoyaltyEvent>();
  for (const e of all) if (!byId.has(e.event_id)) byId.set(e.event_id, e);
  const events = [...byId.values()];
  const total = (type: string) => events.filter((e) => e.type === type).reduce((s, e) => s + (e.points ?? 0), 0);
  const latest = (types: string[]) =>
    events
      .filter((e) => types.includes(e.type))
      .reduce<LoyaltyEvent | null>((w, e) => {
        if (w === null) return e;
        return e.occurred_at > w.occurred_at || (e.occurred_at === w.occurred_at && cmpStr(e.event_id, w.event_id) > 0) ? e : w;
      }, null);
  const maxAt = (type: string) => events.filter((e) => e.type === type).reduce<number | null>((m, e) => Math.max(m ?? e.occurred_at, e.occurred_at), null);
  const earned = total('points_earned');
  const taken = total('points_redeemed') + total('points_expired');
  // Next expiry: the smallest expiry E where the points earned expiring at or before E exceed what was taken.
  const expiries = [...new Set(events.flatMap((e) => (e.type === 'points_earned' && e.expires_at !== null ? [e.expires_at] : [])))].sort((a, b) => a - b);
  const lot = (x: number) => events.filter((e) => e.type === 'points_earned' && e.expires_at === x).reduce((s, e) => s + e.points!, 0);
  const upTo = (x: number) => expiries.filter((y) => y <= x).reduce((s, y) => s + lot(y), 0);
  const next = expiries.find((x) => upTo(x) - taken > 0) ?? null;
  const tier = latest(['enrolled', 'tier_changed']);
  const enrolledAt = events.filter((e) => e.type === 'enrolled').reduce<number | null>((m, e) => Math.min(m ?? e.occurred_at, e.occurred_at), null);
  const activity = enrolledAt === null ? null : Math.max(enrolledAt, maxAt('points_earned') ?? 0, maxAt('points_redeemed') ?? 0);
  return {
    enrolled_at: iso(enrolledAt),
    last_activity_at: iso(activity),
    last_earned_at: iso(maxAt('points_earned')),
    last_redeemed_at: iso(maxAt('points_redeemed')),
    lifetime_points: earned,
    member_id: latest(['enrolled', 'points_earned', 'points_redeemed', 'points_expired', 'tier_changed', 'left'])?.member_id.trim() ?? null,
    next_expiry_at: iso(next),
    next_expiry_points: next === null ? 0 : Math.min(lot(next), upTo(next) - taken),
    overdrawn: earned - taken < 0,
    points_balance: earned - taken,
    points_expired: total('points_expired'),
    points_redeemed: total('points_redeemed'),
    status: latest(['enrolled', 'left'])?.type ?? null,
    tier: tier?.tier ?? null,
    tier_since: iso(tier?.occurred_at ?? null),
  };
}

const loyaltyOf = (events: readonly FoldInput[]) => (profileView(foldEvents(events), { profile_id: 'p', merged_ids: [] }) as { loyalty: unknown }).loyalty;
const loyaltyEvents = (events: readonly FoldInput[]) => events.flatMap((e) => (e.topic === 'loyalty' ? [e.event] : []));

describe('the loyalty section against the oracle (fast-check)', () => {
  it('any arrival order with redeliveries gives the oracle: balance, lifetime, tier and since, next expiry', () => {
    fc.assert(
      fc.property(streamArb(40), ([events, stream]) => {
        const want = oracle(loyaltyEvents(stream));
        assert.deepEqual(loyaltyOf(stream), want);
        assert.deepEqual(loyaltyOf(events), want);
      }),
      { numRuns: 500 },
    );
  });
});

let n = 0;
function ev(type: LoyaltyEvent['type'], at: number, fields: Partial<LoyaltyEvent> = {}): FoldInput {
  const event = loyaltyEvent({ event_id: `l-${n++}`, occurred_at: at, user_id: 'u1', member_id: 'M-1', type, ...fields });
  return { topic: 'loyalty', event, ids: normaliseIdentifiers(event, { defaultRegion: 'GB', blocklist: new Set() }) };
}

describe('loyalty worked cases', () => {
  it('a redemption before its earn: overdrawn until the earn arrives, then the same as in time order', () => {
    const redeem = ev('points_redeemed', T0 + DAY, { points: 300 });
    const earn = ev('points_earned', T0, { points: 500, expires_at: T0 + 365 * DAY });
    const first = loyaltyOf([redeem]) as Record<string, unknown>;
    assert.equal(first.points_balance, -300);
    assert.equal(first.overdrawn, true);
    const both = loyaltyOf([redeem, earn]) as Record<string, unknown>;
    assert.deepEqual(both, loyaltyOf([earn, redeem]));
    assert.equal(both.points_balance, 200);
    assert.equal(both.overdrawn, false);
    assert.equal(both.next_expiry_points, 200);
    assert.equal(both.next_expiry_at, new Date(T0 + 365 * DAY).toISOString());
  });

  it('redemptions take the earliest-expiring lot first, then the next; points that never expire last', () => {
    const events = [
      ev('points_earned', T0, { points: 100, expires_at: T0 + 90 * DAY }),
      ev('points_earned', T0 + DAY, { points: 50 }),
      ev('points_earned', T0 + 2 * DAY, { points: 70, expires_at: T0 + 60 * DAY }),
      ev('points_redeemed', T0 + 3 * DAY, { points: 90 }),
    ];
    const v = loyaltyOf(events) as Record<string, unknown>;
    assert.equal(v.points_balance, 130);
    assert.equal(v.next_expiry_at, new Date(T0 + 90 * DAY).toISOString()); // the 60-day lot (70) is used up
    assert.equal(v.next_expiry_points, 80);
    const all = loyaltyOf([...events, ev('points_expired', T0 + 90 * DAY, { points: 80 })]) as Record<string, unknown>;
    assert.equal(all.points_balance, 50);
    assert.equal(all.next_expiry_at, null);
  });

  it('tier: last writer by occurred_at, then event id; since = that event', () => {
    const a = ev('enrolled', T0, { tier: 'bronze' });
    const b = ev('tier_changed', T0 + 10 * DAY, { tier: 'gold', event_id: 'x-b' });
    const c = ev('tier_changed', T0 + 10 * DAY, { tier: 'silver', event_id: 'x-a' });
    const v = loyaltyOf([b, a, c]) as Record<string, unknown>;
    assert.equal(v.tier, 'gold');
    assert.equal(v.tier_since, new Date(T0 + 10 * DAY).toISOString());
    assert.equal(v.status, 'enrolled');
    assert.equal((loyaltyOf([a, ev('left', T0 + DAY)]) as Record<string, unknown>).status, 'left');
  });
});

describe('loyalty bad input (DLQ reasons)', () => {
  const opts = { now: T0 + DAY };
  const rejects = (e: FoldInput, code: string, path: string, options: object = opts) =>
    assert.throws(() => validateEvent('loyalty', e.event as LoyaltyEvent, { ...opts, ...options }), { code, path });

  it('invalid_points: points ≤ 0, non-integer or missing on a points_* event, or points on another type', () => {
    for (const points of [0, -5, 1.5, null]) rejects(ev('points_earned', T0, { points }), 'invalid_points', 'points');
    rejects(ev('points_redeemed', T0, { points: 0 }), 'invalid_points', 'points');
    rejects(ev('tier_changed', T0, { tier: 'gold', points: 10 }), 'invalid_points', 'points');
    validateEvent('loyalty', ev('points_expired', T0, { points: 1 }).event as LoyaltyEvent, opts);
  });

  it('unknown_tier: not in the tier list (a parameter), or missing where required', () => {
    rejects(ev('tier_changed', T0, { tier: 'diamond' }), 'unknown_tier', 'tier');
    rejects(ev('enrolled', T0), 'unknown_tier', 'tier');
    validateEvent('loyalty', ev('tier_changed', T0, { tier: 'diamond' }).event as LoyaltyEvent, { ...opts, loyaltyTiers: ['diamond'] });
    rejects(ev('tier_changed', T0, { tier: 'gold' }), 'unknown_tier', 'tier', { loyaltyTiers: ['diamond'] });
  });

  it('invalid_loyalty: an empty member id, an expiry on anything but an earn', () => {
    rejects(ev('left', T0, { member_id: '  ' }), 'invalid_loyalty', 'member_id');
    rejects(ev('points_redeemed', T0, { points: 5, expires_at: T0 + DAY }), 'invalid_loyalty', 'expires_at');
    rejects(ev('points_earned', T0, { points: 5, expires_at: 9e15 }), 'invalid_loyalty', 'expires_at');
  });
});
