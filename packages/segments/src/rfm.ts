// RFM scores 1–5. Recency from the last purchase (the only part that moves with the clock), frequency from the
// lifetime count of completed, not cancelled orders, monetary from lifetime net revenue per currency (no FX rates:
// each currency has its own breakpoints and the best currency's score counts; a currency without breakpoints
// scores 1). Breakpoints are ascending; score = 1 + the number of breakpoints passed.
import { z } from 'zod';
import { DAY_MS, parseDuration } from './duration.ts';

export interface RfmModel {
  /** Four ascending ages of the last purchase (ms): age < recency[0] → 5, < recency[1] → 4, … , else 1. */
  recency: readonly number[];
  /** Four ascending order counts: orders ≥ frequency[3] → 5, ≥ frequency[2] → 4, … , < frequency[0] → 1. */
  frequency: readonly number[];
  /** Per currency, four ascending net revenues in minor units, scored like frequency. */
  monetary: Readonly<Record<string, readonly number[]>>;
}

export const DEFAULT_RFM_MODEL: RfmModel = {
  recency: [30 * DAY_MS, 90 * DAY_MS, 180 * DAY_MS, 365 * DAY_MS],
  frequency: [2, 3, 5, 10],
  monetary: {
    GBP: [5_000, 15_000, 40_000, 100_000],
    EUR: [6_000, 18_000, 48_000, 120_000],
    USD: [6_500, 19_500, 52_000, 130_000],
  },
};

const ascending = (xs: readonly number[]) => xs.every((x, i) => i === 0 || xs[i - 1]! < x);
const four = <T extends z.ZodType<number>>(t: T) => z.array(t).length(4).refine(ascending, 'breakpoints must be strictly ascending');
const duration = z.string().transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === undefined) ctx.addIssue({ code: 'custom', message: `expected a duration like 30d (got ${JSON.stringify(s)})` });
  return ms ?? 0;
});

/** The YAML shape of a model: `{ recency: [30d, 90d, 180d, 365d], frequency: [2, 3, 5, 10], monetary: { GBP: [...] } }`. */
export const rfmModelSchema = z.strictObject({
  recency: four(duration),
  frequency: four(z.int().min(1)),
  monetary: z.record(z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 currency code'), four(z.int().min(1))),
});

export interface RfmScores {
  r: number;
  f: number;
  m: number;
}

/** 1 + how many breakpoints the value reaches (value ≥ breakpoint). */
function reached(value: number, breakpoints: readonly number[]): number {
  return 1 + breakpoints.filter((b) => value >= b).length;
}

/** Scores at `now`, or null for a profile that never bought (RFM says nothing about it). */
export function rfmScores(
  model: RfmModel,
  lastPurchaseAt: number | null,
  orders: number,
  revenue: Readonly<Record<string, number>>,
  now: number,
): RfmScores | null {
  if (lastPurchaseAt === null || orders === 0) return null;
  const age = now - lastPurchaseAt;
  const r = 5 - model.recency.filter((b) => age >= b).length;
  const m = Math.max(1, ...Object.entries(revenue).map(([cur, v]) => (Object.hasOwn(model.monetary, cur) ? reached(v, model.monetary[cur]!) : 1)));
  return { r, f: reached(orders, model.frequency), m };
}

/** Instants after `now` at which the recency score changes: last purchase + each breakpoint. */
export function rfmChanges(model: RfmModel, lastPurchaseAt: number | null, now: number): number[] {
  return lastPurchaseAt === null ? [] : model.recency.map((b) => lastPurchaseAt + b).filter((t) => t > now);
}
