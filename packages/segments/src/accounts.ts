// Account-level segments (issue 15): evaluated over an account profile (the sum of its contacts' snapshots,
// packages/profile/src/account.ts), with `now` injected, and the exact instant at which time alone can change a
// membership (an order leaving the 365-day window, 90 days without an order, the end of an account's first 30 days).
// Membership changes carry `entity: account` (SegmentMembershipChanged: profile_id then holds the account id).
//
// Revenue thresholds are per currency, without conversion: an account is over a threshold when its revenue in one
// currency is (the shop's currencies are few and priced alike; a conversion table would be a setting of its own).
import { accountView, type AccountView, type Contribution } from '@profile-stream/profile';
import { DAY_MS } from './duration.ts';

export interface AccountSegmentParams {
  /** key-account: revenue in the last 365 days, minor units, in one currency. */
  key_account_minor: number;
  /** account-at-risk: revenue in the last 365 days worth keeping, minor units, in one currency. */
  at_risk_minor: number;
  /** account-at-risk: days without an order. */
  no_order_days: number;
  /** new-account: days since the account was first seen. */
  new_account_days: number;
}

export const ACCOUNT_SEGMENT_DEFAULTS: AccountSegmentParams = { key_account_minor: 1_000_000, at_risk_minor: 250_000, no_order_days: 90, new_account_days: 30 };

export interface AccountSegment {
  id: 'key-account' | 'account-at-risk' | 'new-account';
  version: number;
  description: string;
  matches(v: AccountView, now: number, p: AccountSegmentParams): boolean;
}

const top365 = (v: AccountView) => Math.max(0, ...Object.values(v.revenue_365d_minor));

export const ACCOUNT_SEGMENTS: readonly AccountSegment[] = [
  {
    id: 'key-account',
    version: 1,
    description: 'Revenue across its contacts in the last 365 days of at least key_account_minor (in one currency).',
    matches: (v, _now, p) => top365(v) >= p.key_account_minor,
  },
  {
    id: 'account-at-risk',
    version: 1,
    description: 'Revenue in the last 365 days of at least at_risk_minor, and an open urgent ticket or no order for no_order_days.',
    matches: (v, now, p) =>
      top365(v) >= p.at_risk_minor && (v.open_urgent_tickets > 0 || v.last_order_at === null || v.last_order_at <= now - p.no_order_days * DAY_MS),
  },
  {
    id: 'new-account',
    version: 1,
    description: 'First seen (the earliest contact naming it) less than new_account_days ago.',
    matches: (v, now, p) => v.first_seen_at !== null && v.first_seen_at > now - p.new_account_days * DAY_MS && v.first_seen_at <= now,
  },
];

/** The segments the account is a member of at `now` (an account without contacts is in none). */
export function accountMemberships(accountId: string, contributions: readonly Contribution[], now: number, p = ACCOUNT_SEGMENT_DEFAULTS): Set<string> {
  if (contributions.length === 0) return new Set();
  const v = accountView(accountId, contributions, now);
  return new Set(ACCOUNT_SEGMENTS.filter((s) => s.matches(v, now, p)).map((s) => s.id));
}

/**
 * The earliest instant after `now` at which time alone may change a membership, or null: an order leaving the
 * 365-day window (at + 365 d), an order entering it (a future-dated one), the end of no_order_days after the last
 * order, the end of the new-account window. The segmenter schedules the account there and evaluates it again.
 */
export function nextAccountInstant(contributions: readonly Contribution[], now: number, p = ACCOUNT_SEGMENT_DEFAULTS): number | null {
  let next: number | null = null;
  const consider = (t: number) => {
    if (t > now && (next === null || t < next)) next = t;
  };
  let last: number | null = null;
  let first: number | null = null;
  for (const c of contributions) {
    for (const [at] of c.orders) {
      consider(at);
      consider(at + 365 * DAY_MS);
    }
    if (c.last_order_at !== null && (last === null || c.last_order_at > last)) last = c.last_order_at;
    if (first === null || c.since < first) first = c.since;
  }
  if (last !== null) consider(last + p.no_order_days * DAY_MS);
  if (first !== null) {
    consider(first);
    consider(first + p.new_account_days * DAY_MS);
  }
  return next;
}

export interface AccountMembershipChange {
  entity: 'account';
  /** The account id (SegmentMembershipChanged.profile_id). */
  profile_id: string;
  segment_id: string;
  segment_version: number;
  change: 'entered' | 'exited';
  reason: 'rule_matched' | 'rule_unmatched' | 'time_elapsed';
  occurred_at: number;
}

/** The changes from one membership set to the next, at `at` (time_elapsed when no event caused them). */
export function accountChanges(
  accountId: string,
  before: ReadonlySet<string>,
  after: ReadonlySet<string>,
  at: number,
  byTime: boolean,
): AccountMembershipChange[] {
  const out: AccountMembershipChange[] = [];
  for (const s of ACCOUNT_SEGMENTS) {
    const was = before.has(s.id);
    const is = after.has(s.id);
    if (was === is) continue;
    const reason = byTime ? 'time_elapsed' : is ? 'rule_matched' : 'rule_unmatched';
    out.push({
      entity: 'account',
      profile_id: accountId,
      segment_id: s.id,
      segment_version: s.version,
      change: is ? 'entered' : 'exited',
      reason,
      occurred_at: at,
    });
  }
  return out;
}
