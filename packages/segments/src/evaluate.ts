// The evaluator: pure, `now` injected. Every leaf is a step function of time that can only change at instants
// it names (candidates); between two consecutive candidates the whole tree is constant. So the next flip is
// the earliest candidate at which the tree's value differs from its value now: exact to the millisecond.
//
// Time conventions (shared by every time leaf): `within_last: D` holds while now - t < D and stops at t + D;
// `older_than: D` starts to hold at t + D exactly; a windowed aggregate counts points with now - at < D, so a
// point leaves the window at at + D. `within_next: D` (a time ahead, e.g. an expiry) holds from t - D exactly until t.
import type { JsonValue } from '@profile-stream/profile';
import type { Bounds, Condition } from './condition.ts';
import type { SegmentDefinition } from './definition.ts';
import { factsOf } from './facts.ts';
import type { Facts, PurchaseFact } from './facts.ts';
import { rfmChanges, rfmInRanges } from './rfm.ts';

export interface Evaluation {
  member: boolean;
  /** The earliest instant > now at which `member` flips with no new event, or null if it never does. */
  nextChangeAt: number | null;
  /**
   * With `since`: the last instant in (since, now] at which `member` flipped by the clock alone (e.g. the
   * moment a customer became dormant, for a view first evaluated long after), or null when it did not.
   */
  flippedAt: number | null;
}

/** The condition including the consent gate. */
export function conditionOf(def: SegmentDefinition): Condition {
  if (def.requires_consent === null) return def.condition;
  return { kind: 'all', of: [{ kind: 'compare', field: `consent.${def.requires_consent}.granted`, op: 'eq', value: true }, def.condition] };
}

function inBounds(v: number, b: Bounds): boolean {
  return (
    (b.eq === undefined || v === b.eq) &&
    (b.gt === undefined || v > b.gt) &&
    (b.gte === undefined || v >= b.gte) &&
    (b.lt === undefined || v < b.lt) &&
    (b.lte === undefined || v <= b.lte)
  );
}

type Aggregate = Extract<Condition, { kind: 'aggregate' }>;

/** The points an aggregate counts or sums: orders (of one currency for sums, when given) or product views. */
const pointsOf = (c: Aggregate, facts: Facts): readonly PurchaseFact[] => (c.of === 'product_views' ? facts.productViews : facts.purchases);
const currencyOf = (c: Aggregate): string | null => (c.of === 'product_views' ? null : c.currency);

/**
 * The aggregate's count or sum at instant t over the points in its window: ending now, those with t - at < within;
 * ending at the last purchase, those with end - at < within and at <= end (none without a last purchase).
 * One pass, no temporary arrays (it runs at every candidate instant).
 */
export function aggregateAt(c: Aggregate, facts: Facts, t: number): number {
  let end = t;
  if (c.ending === 'last_purchase') {
    if (facts.lastPurchaseAt === null) return 0;
    end = facts.lastPurchaseAt;
  }
  const currency = currencyOf(c);
  const upToEnd = c.ending === 'last_purchase';
  let v = 0;
  for (const p of pointsOf(c, facts)) {
    if (currency !== null && p.currency !== currency) continue;
    if (c.within !== null && !(end - p.at < c.within && (!upToEnd || p.at <= end))) continue;
    v += c.fn === 'count' ? 1 : c.of === 'net_minor' ? p.total_minor - p.refunded_minor : p.total_minor;
  }
  return v;
}

/** Leaves on one profile field that do not move with the clock: their value is the same at every t. */
const isFieldLeaf = (c: Condition): boolean => c.kind === 'compare' || c.kind === 'in' || c.kind === 'contains' || c.kind === 'exists' || c.kind === 'after';

/** The condition's value at instant t. */
export function holds(c: Condition, facts: Facts, t: number): boolean {
  switch (c.kind) {
    // Field leaves first: one read each, and one may settle the answer before an aggregate parses its points (holds
    // is pure, so the order cannot change an answer).
    case 'all':
      for (const x of c.of) if (isFieldLeaf(x) && !holds(x, facts, t)) return false;
      for (const x of c.of) if (!isFieldLeaf(x) && !holds(x, facts, t)) return false;
      return true;
    case 'any':
      for (const x of c.of) if (isFieldLeaf(x) && holds(x, facts, t)) return true;
      for (const x of c.of) if (!isFieldLeaf(x) && holds(x, facts, t)) return true;
      return false;
    case 'not':
      return !holds(c.of, facts, t);
    case 'compare': {
      const v = facts.value(c.field);
      if (v === null) return c.op === 'neq';
      switch (c.op) {
        case 'eq':
          return v === c.value;
        case 'neq':
          return v !== c.value;
        case 'gt':
          return typeof v === 'number' && v > (c.value as number);
        case 'gte':
          return typeof v === 'number' && v >= (c.value as number);
        case 'lt':
          return typeof v === 'number' && v < (c.value as number);
        case 'lte':
          return typeof v === 'number' && v <= (c.value as number);
      }
      return false;
    }
    case 'in': {
      const v = facts.value(c.field);
      return (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && c.values.includes(v);
    }
    case 'contains': {
      const v = facts.value(c.field);
      return Array.isArray(v) ? v.includes(c.value) : typeof v === 'string' && typeof c.value === 'string' && v.includes(c.value);
    }
    case 'exists': {
      const v = facts.value(c.field);
      return (v !== null && !(Array.isArray(v) && v.length === 0)) === c.value;
    }
    case 'after': {
      const a = facts.time(c.field);
      const b = facts.time(c.other);
      return a !== null && (b === null || a > b);
    }
    case 'within_last': {
      const a = facts.time(c.field);
      return a !== null && t - a < c.ms;
    }
    case 'older_than': {
      const a = facts.time(c.field);
      return a !== null && t - a >= c.ms;
    }
    case 'within_next': {
      const a = facts.time(c.field);
      return a !== null && a - c.ms <= t && t < a;
    }
    case 'aggregate':
      return inBounds(aggregateAt(c, facts, t), c.bounds);
    case 'rfm':
      return rfmInRanges(c.model, c, facts.lastPurchaseAt, facts.ordersCount, facts.revenue, t);
  }
}

/**
 * Instants > now at which some leaf of c changes value (a superset of the tree's flips), leaving out the leaves under
 * an all that a false field leaf holds false at every t, or an any that a true one holds true.
 */
export function candidates(c: Condition, facts: Facts, now: number, out: number[] = []): number[] {
  switch (c.kind) {
    case 'all':
    case 'any':
      for (const x of c.of) if (isFieldLeaf(x) && holds(x, facts, now) === (c.kind === 'any')) return out;
      for (const x of c.of) candidates(x, facts, now, out);
      break;
    case 'not':
      candidates(c.of, facts, now, out);
      break;
    case 'within_last':
    case 'older_than': {
      const a = facts.time(c.field);
      if (a !== null && a + c.ms > now) out.push(a + c.ms);
      break;
    }
    case 'within_next': {
      const a = facts.time(c.field);
      if (a !== null && a - c.ms > now) out.push(a - c.ms);
      if (a !== null && a > now) out.push(a);
      break;
    }
    case 'aggregate':
      if (c.ending === 'now' && c.within !== null) {
        const currency = currencyOf(c);
        for (const p of pointsOf(c, facts)) if ((currency === null || p.currency === currency) && p.at + c.within > now) out.push(p.at + c.within);
      }
      break;
    case 'rfm':
      rfmChanges(c.model, facts.lastPurchaseAt, now, out);
      break;
    default:
      break;
  }
  return out;
}

/** candidates(c) after `after`, ascending, each once (sorted in place, then repeats dropped). */
function sortedInstants(c: Condition, facts: Facts, after: number): number[] {
  const xs = candidates(c, facts, after);
  if (xs.length < 2) return xs;
  xs.sort((a, b) => a - b);
  let n = 1;
  for (let i = 1; i < xs.length; i++) if (xs[i] !== xs[n - 1]) xs[n++] = xs[i]!;
  xs.length = n;
  return xs;
}

/**
 * One list of instants serves both questions: the candidates after `since` are those in (since, now], where the last
 * flip is looked for, followed by those after now, where the next one is (the candidates after now are exactly these:
 * every leaf names its instants by the same `> after` test).
 */
function evaluateFacts(c: Condition, facts: Facts, now: number, since: number | undefined): Evaluation {
  const member = holds(c, facts, now);
  const looksBack = since !== undefined && since < now;
  const instants = sortedInstants(c, facts, looksBack ? since : now);
  let i = 0;
  let flippedAt: number | null = null;
  if (looksBack && instants.length > 0 && instants[0]! <= now) {
    // The last instant in (since, now] at which c's value flipped.
    let value = holds(c, facts, since);
    for (; i < instants.length && instants[i]! <= now; i++) {
      if (holds(c, facts, instants[i]!) === value) continue;
      value = !value;
      flippedAt = instants[i]!;
    }
  }
  for (; i < instants.length; i++) if (holds(c, facts, instants[i]!) !== member) return { member, nextChangeAt: instants[i]!, flippedAt }; // all > now
  return { member, nextChangeAt: null, flippedAt };
}

/**
 * Membership of a profile view at `now` and the next instant it flips by the clock alone; with `since`, also
 * the last instant in (since, now] it flipped (exact `occurred_at` for a change noticed after the fact).
 */
export function evaluate(def: SegmentDefinition, view: JsonValue, now: number, since?: number): Evaluation {
  return evaluateFacts(conditionOf(def), factsOf(view), now, since);
}

/** Evaluates many definitions over one view (the view is read once). */
/** A view, or its facts already read once (callers evaluating many definitions over one view pass these). */
export type ViewOrFacts = JsonValue | Facts;
const isFacts = (x: ViewOrFacts): x is Facts => typeof x === 'object' && x !== null && typeof (x as { value?: unknown }).value === 'function';
export const asFacts = (x: ViewOrFacts): Facts => (isFacts(x) ? x : factsOf(x));

export function evaluateAll(defs: readonly SegmentDefinition[], view: ViewOrFacts, now: number, since?: number): Map<string, Evaluation> {
  const facts = asFacts(view);
  const out = new Map<string, Evaluation>();
  for (const d of defs) out.set(d.id, evaluateFacts(conditionOf(d), facts, now, since));
  return out;
}

/** True when the definition's condition holds but its consent gate does not (an exit is a consent withdrawal). */
export function blockedByConsent(def: SegmentDefinition, view: ViewOrFacts, now: number): boolean {
  if (def.requires_consent === null) return false;
  const facts = asFacts(view);
  return facts.value(`consent.${def.requires_consent}.granted`) !== true && holds(def.condition, facts, now);
}

/** The definition's traits as strings (lists joined with ","; absent fields left out). */
export function traitsOf(def: SegmentDefinition, view: ViewOrFacts): Record<string, string> {
  const facts = asFacts(view);
  const out: Record<string, string> = {};
  for (const path of def.traits) {
    const v = facts.value(path);
    if (v === null || (Array.isArray(v) && v.length === 0)) continue;
    if (!Array.isArray(v)) out[path] = traitText(v);
    else {
      let s = '';
      for (let i = 0; i < v.length; i++) s += (i === 0 ? '' : ',') + (traitText(v[i]!) ?? ''); // as join(',') would
      out[path] = s;
    }
  }
  return out;
}

/** A trait value as text: strings as they are, anything else as JSON (finite numbers and booleans without the call). */
function traitText(x: JsonValue): string {
  if (typeof x === 'string') return x;
  if ((typeof x === 'number' && Number.isFinite(x)) || typeof x === 'boolean') return String(x);
  return JSON.stringify(x);
}
