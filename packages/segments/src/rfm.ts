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

/** True when every value is above the one before it (what every breakpoint list must be). */
export const ascending = (xs: readonly number[]) => xs.every((x, i) => i === 0 || xs[i - 1]! < x);
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

// Loops rather than filter/map/spread: these run for every rfm definition at every candidate instant of every
// profile change (the segmenter's hot path), and the temporary arrays cost garbage collection.

const inRange = (v: number, [lo, hi]: readonly [number, number]) => v >= lo && v <= hi;

/** 1 + how many breakpoints the value reaches (value ≥ breakpoint). */
function reached(value: number, breakpoints: readonly number[]): number {
  let n = 1;
  for (const b of breakpoints) if (value >= b) n++;
  return n;
}

/** Recency 1–5 for a last purchase `age` ms ago (5 minus the breakpoints reached). */
function recency(model: RfmModel, age: number): number {
  return 6 - reached(age, model.recency);
}

/** The best currency's monetary score (a currency the model has no breakpoints for scores 1). */
function monetary(model: RfmModel, revenue: Readonly<Record<string, number>>): number {
  let m = 1;
  for (const cur in revenue) {
    if (!Object.hasOwn(revenue, cur) || !Object.hasOwn(model.monetary, cur)) continue;
    const s = reached(revenue[cur]!, model.monetary[cur]!);
    if (s > m) m = s;
  }
  return m;
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
  return { r: recency(model, now - lastPurchaseAt), f: reached(orders, model.frequency), m: monetary(model, revenue) };
}

/**
 * True when the scores at `now` exist and each lies in its range [lo, hi]: rfmScores tested part by part, stopping at
 * the first part out of range (most rfm segments fail on recency, and monetary is the dearest part).
 */
export function rfmInRanges(
  model: RfmModel,
  ranges: { readonly r: readonly [number, number]; readonly f: readonly [number, number]; readonly m: readonly [number, number] },
  lastPurchaseAt: number | null,
  orders: number,
  revenue: Readonly<Record<string, number>>,
  now: number,
): boolean {
  return (
    lastPurchaseAt !== null &&
    orders !== 0 &&
    inRange(recency(model, now - lastPurchaseAt), ranges.r) &&
    inRange(reached(orders, model.frequency), ranges.f) &&
    inRange(monetary(model, revenue), ranges.m)
  );
}

/** Instants after `now` at which the recency score changes: last purchase + each breakpoint (appended to `out`). */
export function rfmChanges(model: RfmModel, lastPurchaseAt: number | null, now: number, out: number[] = []): number[] {
  if (lastPurchaseAt === null) return out;
  for (const b of model.recency) if (lastPurchaseAt + b > now) out.push(lastPurchaseAt + b);
  return out;
}
