// The loyalty part of a profile: what a LoyaltyEvent contributes (its fragment), its validation, and the derived view.
//
// Order independence. Every stored fact is joined by a commutative rule (rules.ts `loyalty`), so the result does not
// depend on the order events arrive in, and each event_id is applied once (the store's de-duplication):
//   balance   = earned − redeemed − expired (three sums); a redemption before its earn is fine: the balance is
//               negative until the earn arrives. A balance below 0 is shown as it is, with `overdrawn: true`
//               (never clamped: a clamp would hide points the loyalty system's events disagree about).
//   tier      = last writer wins by (occurred_at, event_id) over enrolled and tier_changed events; tier_since = that
//               event's occurred_at.
//   status    = `enrolled` or `left`, last writer wins over enrolled and left events.
//   lots      = points earned per expiry instant (expires_at → Σ points, points with no expiry are not a lot).
// Points expiring next: redeemed and expired points are taken from the lots earliest expiry first (and from points
// that never expire last). The next expiry is the earliest lot with points left after that, and how many. It is a
// function of the totals only, never of the order redemptions arrived in; FIFO by arrival would not be (a redemption
// replayed late would move points between lots). This is the profile's reading: the loyalty system may allocate
// redemptions differently; its points_expired events stay the authority for the balance.
import { DEFAULT_LOYALTY_TIERS, type LoyaltyEvent } from '@profile-stream/contracts';
import { cell, put } from './doc.ts';
import type { ProfileDoc } from './doc.ts';
import { ProfileError } from './errors.ts';

type LoyaltyDoc = NonNullable<ProfileDoc['loyalty']>;

/** Expiries stop before 2100, as every time the warehouse stores does (so both refuse the same events). */
const MAX_EXPIRY = Date.UTC(2100, 0, 1);
const POINTS_TYPES: ReadonlySet<string> = new Set(['points_earned', 'points_redeemed', 'points_expired']);
const TIER_TYPES: ReadonlySet<string> = new Set(['enrolled', 'tier_changed']);

/** Throws the first problem of a loyalty event (a ProfileError whose code is the DLQ reason). */
export function validateLoyalty(e: LoyaltyEvent, tiers: readonly string[] = DEFAULT_LOYALTY_TIERS): void {
  if (e.member_id.trim() === '') throw new ProfileError('invalid_loyalty', 'member_id is empty', { path: 'member_id' });
  const p = e.points;
  if (POINTS_TYPES.has(e.type)) {
    if (p === null || !Number.isSafeInteger(p) || p <= 0) {
      throw new ProfileError('invalid_points', `points must be a positive whole number for ${e.type} (got ${p})`, { path: 'points' });
    }
  } else if (p !== null) {
    throw new ProfileError('invalid_points', `points must be null for ${e.type} (got ${p})`, { path: 'points' });
  }
  if (TIER_TYPES.has(e.type) && e.tier === null) throw new ProfileError('unknown_tier', `tier is required for ${e.type}`, { path: 'tier' });
  if (e.tier !== null && !tiers.includes(e.tier)) {
    throw new ProfileError('unknown_tier', `tier '${e.tier}' is not one of the programme's tiers (${tiers.join(', ')})`, { path: 'tier' });
  }
  const x = e.expires_at;
  if (x !== null && (e.type !== 'points_earned' || !Number.isSafeInteger(x) || x < 0 || x >= MAX_EXPIRY)) {
    const why = e.type !== 'points_earned' ? `is only for points_earned (got it on ${e.type})` : `must be epoch milliseconds before 2100 (got ${x})`;
    throw new ProfileError('invalid_loyalty', `expires_at ${why}`, { path: 'expires_at' });
  }
}

/** The loyalty section one (valid) event contributes, fields in RULES order. */
export function loyaltyFragment(e: LoyaltyEvent): LoyaltyDoc {
  const t = e.occurred_at;
  const c = (v: string) => cell(v, t, e.event_id);
  const out: LoyaltyDoc = { member_id: c(e.member_id.trim()) };
  if (e.type === 'enrolled' || e.type === 'left') out.status = c(e.type);
  if (e.type === 'enrolled') out.enrolled_at = t;
  if (e.tier !== null && TIER_TYPES.has(e.type)) out.tier = c(e.tier);
  const p = e.points ?? 0;
  if (e.type === 'points_earned') {
    out.earned = p;
    out.last_earned_at = t;
    if (e.expires_at !== null) {
      const lots: { [at: string]: number } = {};
      put(lots, String(e.expires_at), p);
      out.lots = lots;
    }
  }
  if (e.type === 'points_redeemed') {
    out.redeemed = p;
    out.last_redeemed_at = t;
  }
  if (e.type === 'points_expired') out.expired = p;
  return out;
}

/** The earliest expiry with points left after redemptions and expiries took the earliest lots first (module header). */
export function nextExpiry(l: LoyaltyDoc): { at: number; points: number } | null {
  let taken = (l.redeemed ?? 0) + (l.expired ?? 0);
  const lots = l.lots ?? {};
  // keys are decimal epoch ms (loyaltyFragment); anything else (a hand-made document) is not a lot
  const keys = Object.keys(lots).filter((k) => /^[0-9]{1,16}$/.test(k) && Number(k) < MAX_EXPIRY);
  keys.sort((a, b) => Number(a) - Number(b));
  for (const k of keys) {
    const amount = lots[k]!;
    if (taken >= amount) {
      taken -= amount;
      continue;
    }
    return { at: Number(k), points: amount - taken };
  }
  return null;
}

/** The balance: earned − redeemed − expired (negative while a redemption is ahead of its earn, or over-redeemed). */
export function pointsBalance(l: LoyaltyDoc): number {
  return (l.earned ?? 0) - (l.redeemed ?? 0) - (l.expired ?? 0);
}

/** Latest of enrolment, earn and redemption (input of `lapsed-member`); undefined for a profile that was never enrolled. */
export function loyaltyActivityAt(l: LoyaltyDoc): number | undefined {
  if (l.enrolled_at === undefined) return undefined;
  return Math.max(l.enrolled_at, l.last_earned_at ?? 0, l.last_redeemed_at ?? 0);
}
