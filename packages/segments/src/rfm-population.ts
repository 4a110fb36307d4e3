// RFM breakpoints from the population. The warehouse computes each measure's quintile values over the customers
// (packages/warehouse/src/rfm.ts); this turns them into an RfmModel, or refuses a degenerate population, and defines
// the versioned document kept in Redis (rfm-versions.ts).
//
// Quintiles: n values sorted from worst to best; the k-th quintile value (k = 1..4) is the one at rank ⌈k·n/5⌉
// (1-based), the best value of the worst k fifths. A customer scores 1 + the number of quintile values it is strictly
// better than, i.e. 1 + ⌊5·W(v)⌋ with W(v) the share of the population strictly worse than v: tied customers all
// score as the lowest of them, so a score above k is only ever held by customers better than k fifths of the others.
// In the model's terms (value ≥ breakpoint passes it): frequency and monetary are integers where more is better, so
// breakpoint = quintile + 1; recency is an age where younger is better, so the age breakpoints are the quintile ages.
//
// Ties: equal quintiles would give equal breakpoints, and a model's breakpoints must be strictly ascending. A tied
// breakpoint is moved one unit past the one below it (1 order, 1 minor unit, 1 ms younger): the score between the two
// stays empty, and only a value exactly one unit better than the tie scores one lower than 1 + ⌊5·W(v)⌋.
import { z } from 'zod';
import type { Condition } from './condition.ts';
import type { SegmentDefinition } from './definition.ts';
import { ascending, DEFAULT_RFM_MODEL, type RfmModel } from './rfm.ts';

/** What the warehouse's query gives: quintile values (four each, worst to best) and how many customers they cover. */
export interface PopulationQuintiles {
  /** Customers with at least one counted order (completed, not cancelled): the recency and frequency population. */
  customers: number;
  /** Quintile ages of the last counted order (ms before `as_of`), oldest first. */
  recencyAges: readonly number[];
  /** Quintile counts of counted orders, fewest first. */
  frequency: readonly number[];
  /** Per currency: quintile net revenues (minor units), lowest first, over the customers with an order in it. */
  monetary: Readonly<Record<string, { customers: number; quintiles: readonly number[] }>>;
}

export type PopulationModel = { ok: true; model: RfmModel; skipped: Record<string, string> } | { ok: false; reason: string };

/** Breakpoints of a measure where more is better, from its quintiles: q + 1, each at least one above the one before. */
export function breakpointsFrom(quintiles: readonly number[]): number[] {
  const out: number[] = [];
  for (const q of quintiles) out.push(out.length === 0 ? q + 1 : Math.max(q + 1, out[out.length - 1]! + 1));
  return out;
}

/** Recency breakpoints (ascending ages) from the quintile ages, oldest first: the same rule on −age. */
export function recencyBreakpointsFrom(ages: readonly number[]): number[] {
  return breakpointsFrom(ages.map((a) => -a))
    .map((b) => 1 - b)
    .reverse();
}

const flat = (q: readonly number[]) => q.length === 4 && q[0] === q[3];

/**
 * The model of a population, or why there is none: fewer customers than `minCustomers`, or a measure whose four
 * quintiles are equal (everyone bought once, every last purchase at one instant). A currency with too few customers
 * or flat quintiles is left out (named in `skipped`): its customers score monetary 1, as for any currency without
 * breakpoints; with no currency left the population is degenerate.
 */
export function populationModel(q: PopulationQuintiles, minCustomers: number): PopulationModel {
  if (q.customers < minCustomers)
    return { ok: false, reason: `${q.customers} customer(s) with a completed order, fewer than the ${minCustomers} needed (RFM_MIN_CUSTOMERS)` };
  if (flat(q.recencyAges)) return { ok: false, reason: `all four recency quintiles are the same age (${q.recencyAges[0]} ms)` };
  if (flat(q.frequency)) return { ok: false, reason: `all four frequency quintiles are ${q.frequency[0]} order(s) (e.g. everyone bought once)` };
  const monetary: Record<string, number[]> = {};
  const skipped: Record<string, string> = {};
  for (const [cur, m] of Object.entries(q.monetary).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (m.customers < minCustomers) skipped[cur] = `${m.customers} customer(s), fewer than ${minCustomers}`;
    else if (flat(m.quintiles)) skipped[cur] = `all four quintiles are ${m.quintiles[0]}`;
    else monetary[cur] = breakpointsFrom(m.quintiles);
  }
  if (Object.keys(monetary).length === 0) {
    const why = Object.entries(skipped).map(([c, r]) => `${c}: ${r}`);
    return { ok: false, reason: `no currency has usable monetary quintiles${why.length ? ` (${why.join('; ')})` : ''}` };
  }
  return { ok: true, model: { recency: recencyBreakpointsFrom(q.recencyAges), frequency: breakpointsFrom(q.frequency), monetary }, skipped };
}

const four = z.array(z.int()).length(4);
const strict = four.refine(ascending, 'breakpoints must be strictly ascending');

/** A version of the population's breakpoints as kept in Redis (and printed by `profile-stream rfm`). */
export const rfmVersionSchema = z.object({
  version: z.int().min(1),
  computed_at: z.iso.datetime(),
  as_of: z.iso.datetime(),
  population: z.object({ customers: z.int().min(0), monetary: z.record(z.string(), z.int().min(0)) }),
  quintiles: z.object({ recency_age_ms: four, frequency: four, monetary: z.record(z.string(), four) }),
  breakpoints: z.object({ recency_ms: strict, frequency: strict, monetary: z.record(z.string(), strict) }),
  skipped: z.record(z.string(), z.string()),
});
export type RfmVersion = z.infer<typeof rfmVersionSchema>;

/** The document of a new version (its number is given when it is stored). */
export function versionDoc(
  q: PopulationQuintiles,
  model: RfmModel,
  skipped: Record<string, string>,
  computedAt: number,
  asOf: number,
): Omit<RfmVersion, 'version'> {
  return {
    computed_at: new Date(computedAt).toISOString(),
    as_of: new Date(asOf).toISOString(),
    population: { customers: q.customers, monetary: Object.fromEntries(Object.entries(q.monetary).map(([c, m]) => [c, m.customers])) },
    quintiles: {
      recency_age_ms: [...q.recencyAges],
      frequency: [...q.frequency],
      monetary: Object.fromEntries(Object.entries(q.monetary).map(([c, m]) => [c, [...m.quintiles]])),
    },
    breakpoints: {
      recency_ms: [...model.recency],
      frequency: [...model.frequency],
      monetary: Object.fromEntries(Object.entries(model.monetary).map(([c, m]) => [c, [...m]])),
    },
    skipped,
  };
}

export const modelOf = (v: Pick<RfmVersion, 'breakpoints'>): RfmModel => ({
  recency: v.breakpoints.recency_ms,
  frequency: v.breakpoints.frequency,
  monetary: v.breakpoints.monetary,
});

// Definitions: an rfm condition written without a `model:` holds DEFAULT_RFM_MODEL itself (condition.ts), and that
// is the one that follows the population; a definition's own model stays its own.

const follows = (c: Condition): boolean =>
  c.kind === 'rfm' ? c.model === DEFAULT_RFM_MODEL : c.kind === 'all' || c.kind === 'any' ? c.of.some(follows) : c.kind === 'not' ? follows(c.of) : false;

/** True when the definition has an rfm condition scored against the shared (population or static default) model. */
export const followsSharedModel = (def: SegmentDefinition): boolean => follows(def.condition);

function replaced(c: Condition, model: RfmModel): Condition {
  if (c.kind === 'rfm') return c.model === DEFAULT_RFM_MODEL ? { ...c, model } : c;
  if (c.kind === 'all' || c.kind === 'any') return { ...c, of: c.of.map((x) => replaced(x, model)) };
  if (c.kind === 'not') return { ...c, of: replaced(c.of, model) };
  return c;
}

/** The definitions as loaded, with `model` in place of the shared default in each rfm condition that uses it. */
export function withRfmModel(defs: readonly SegmentDefinition[], model: RfmModel): SegmentDefinition[] {
  return defs.map((d) => (followsSharedModel(d) ? { ...d, condition: replaced(d.condition, model) } : d));
}
