// Loyalty programme events consistent with the orders (issue 15). A customer joins with probability loyaltyShare at
// their first completed order, then earns a point per whole currency unit of each completed order (expiring after
// POINTS_VALID_DAYS), moves up a tier when lifetime points cross a threshold, sometimes redeems part of the balance
// some days later (never more than it holds), and a few leave the programme. Every draw comes from the member's own
// stream, so switching loyalty on changes no other event (but event ids and the noise, drawn in sequence, shift).
// Not simulated: expiry events and claw-backs of points on refunded or cancelled orders.
import { DEFAULT_LOYALTY_TIERS } from '@profile-stream/contracts';
import { DAY, HOUR, MINUTE, type Customer, type GeneratorContext } from './customer.ts';
import { createRng, labelHash, type Rng } from './prng.ts';
import type { Identifiers } from './types.ts';

/** Lifetime points from which each tier of DEFAULT_LOYALTY_TIERS is held. */
export const TIER_THRESHOLDS = [0, 500, 2000, 5000] as const;
export const POINTS_VALID_DAYS = 120;

export interface LoyaltyMember {
  memberId: string;
  /** The identifiers of the order it joined with: every loyalty event of the member carries them. */
  ids: Identifiers;
  rng: Rng;
  tier: number;
  lifetime: number;
  /** Points held once every earn and redemption scheduled so far has happened. */
  balance: number;
  /** When the member leaves (Infinity = stays). */
  leftAt: number;
}

function tierOf(lifetime: number): number {
  let tier = 0;
  while (tier + 1 < TIER_THRESHOLDS.length && lifetime >= TIER_THRESHOLDS[tier + 1]!) tier++;
  return tier;
}

/** The member, joining now if this is the customer's first chance (decided once, from the customer's loyalty stream). */
function memberFor(ctx: GeneratorContext, c: Customer, at: number, ids: Identifiers): LoyaltyMember | null {
  if (c.loyalty !== undefined) return c.loyalty;
  const rng = createRng(ctx.seed, labelHash('loyalty'), c.id.index);
  c.loyalty = rng.chance(ctx.loyaltyShare)
    ? { memberId: `LM-${c.id.index.toString(36).padStart(5, '0')}`, ids, rng, tier: 0, lifetime: 0, balance: 0, leftAt: Infinity }
    : null;
  if (c.loyalty !== null) emit(ctx, c, at, c.loyalty, { type: 'enrolled', tier: DEFAULT_LOYALTY_TIERS[0]! });
  return c.loyalty;
}

function emit(
  ctx: GeneratorContext,
  c: Customer,
  at: number,
  m: LoyaltyMember,
  e: {
    type: 'enrolled' | 'points_earned' | 'points_redeemed' | 'tier_changed' | 'left';
    points?: number;
    tier?: string;
    order_id?: string;
    expires_at?: number;
  },
): void {
  ctx.emit(at, 'loyalty', c, {
    ...m.ids,
    occurred_at: at,
    member_id: m.memberId,
    type: e.type,
    points: e.points ?? null,
    tier: e.tier ?? null,
    reason: e.type === 'points_earned' ? 'order' : e.type === 'points_redeemed' ? 'reward' : null,
    order_id: e.order_id ?? null,
    expires_at: e.expires_at ?? null,
  });
}

/** A completed order at `at`: the loyalty events it leads to (none when the customer is not, or no longer, a member). */
export function loyaltyOnOrder(ctx: GeneratorContext, c: Customer, at: number, ids: Identifiers, orderId: string, totalMinor: number): void {
  if (ctx.loyaltyShare <= 0) return;
  const m = memberFor(ctx, c, at, ids);
  if (m === null || at >= m.leftAt) return;
  const points = Math.floor(totalMinor / 100);
  if (points <= 0) return;
  const earnAt = at + MINUTE;
  // earned points carry the member's tier at the time (reporting: points by tier)
  const tier = DEFAULT_LOYALTY_TIERS[m.tier]!;
  emit(ctx, c, earnAt, m, { type: 'points_earned', points, tier, order_id: orderId, expires_at: earnAt + POINTS_VALID_DAYS * DAY });
  m.lifetime += points;
  m.balance += points;
  const next = tierOf(m.lifetime);
  if (next > m.tier) {
    m.tier = next;
    emit(ctx, c, earnAt + 1000, m, { type: 'tier_changed', tier: DEFAULT_LOYALTY_TIERS[next]! });
  }
  const r = m.rng;
  if (m.balance >= 300 && r.chance(0.3)) {
    const redeemAt = earnAt + HOUR + Math.floor(r.exp(7 * DAY));
    const amount = 100 * r.int(1, Math.floor(m.balance / 100));
    if (redeemAt < m.leftAt) {
      m.balance -= amount;
      emit(ctx, c, redeemAt, m, { type: 'points_redeemed', points: amount, tier: DEFAULT_LOYALTY_TIERS[m.tier]! });
    }
  }
  if (r.chance(0.03)) {
    m.leftAt = earnAt + DAY + Math.floor(r.exp(20 * DAY));
    emit(ctx, c, m.leftAt, m, { type: 'left' });
  }
}
