// The evaluator: pure, `now` injected. Every leaf is a step function of time that can only change at instants
// it names (candidates); between two consecutive candidates the whole tree is constant. So the next flip is
// the earliest candidate at which the tree's value differs from its value now: exact to the millisecond.
//
// Time conventions (shared by every time leaf): `within_last: D` holds while now - t < D and stops at t + D;
// `older_than: D` starts to hold at t + D exactly; a windowed aggregate counts points with now - at < D, so a
// point leaves the window at at + D.
import type { JsonValue } from '@profile-stream/profile';
import type { Bounds, Condition, Range } from './condition.ts';
import type { SegmentDefinition } from './definition.ts';
import { factsOf } from './facts.ts';
import type { Facts, PurchaseFact } from './facts.ts';
import { rfmChanges, rfmScores } from './rfm.ts';

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

const inRange = (v: number, [lo, hi]: Range) => v >= lo && v <= hi;

type Aggregate = Extract<Condition, { kind: 'aggregate' }>;

/** The points an aggregate counts or sums: orders (of one currency for sums) or product views. */
function pointsOf(c: Aggregate, facts: Facts): readonly PurchaseFact[] {
  if (c.of === 'product_views') return facts.productViews;
  return c.currency === null ? facts.purchases : facts.purchases.filter((p) => p.currency === c.currency);
}

function windowPoints(c: Aggregate, facts: Facts, t: number): readonly PurchaseFact[] {
  const points = pointsOf(c, facts);
  if (c.ending === 'last_purchase') {
    const end = facts.lastPurchaseAt;
    if (end === null) return [];
    return c.within === null ? points : points.filter((p) => end - p.at < c.within! && p.at <= end);
  }
  return c.within === null ? points : points.filter((p) => t - p.at < c.within!);
}

/** The condition's value at instant t. */
export function holds(c: Condition, facts: Facts, t: number): boolean {
  switch (c.kind) {
    case 'all':
      return c.of.every((x) => holds(x, facts, t));
    case 'any':
      return c.of.some((x) => holds(x, facts, t));
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
    case 'aggregate': {
      const points = windowPoints(c, facts, t);
      const v = c.fn === 'count' ? points.length : points.reduce((s, p) => s + (c.of === 'net_minor' ? p.total_minor - p.refunded_minor : p.total_minor), 0);
      return inBounds(v, c.bounds);
    }
    case 'rfm': {
      const s = rfmScores(c.model, facts.lastPurchaseAt, facts.ordersCount, facts.revenue, t);
      return s !== null && inRange(s.r, c.r) && inRange(s.f, c.f) && inRange(s.m, c.m);
    }
  }
}

/** Instants > now at which some leaf of c changes value (a superset of the tree's flips). */
export function candidates(c: Condition, facts: Facts, now: number, out: number[] = []): number[] {
  switch (c.kind) {
    case 'all':
    case 'any':
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
    case 'aggregate':
      if (c.ending === 'now' && c.within !== null) {
        for (const p of pointsOf(c, facts)) if (p.at + c.within > now) out.push(p.at + c.within);
      }
      break;
    case 'rfm':
      out.push(...rfmChanges(c.model, facts.lastPurchaseAt, now));
      break;
    default:
      break;
  }
  return out;
}

const sortedInstants = (c: Condition, facts: Facts, after: number) => [...new Set(candidates(c, facts, after))].sort((a, b) => a - b);

/** The last instant in (since, now] at which c's value flipped, or null. */
function lastFlip(c: Condition, facts: Facts, since: number, now: number): number | null {
  let value = holds(c, facts, since);
  let last: number | null = null;
  for (const t of sortedInstants(c, facts, since)) {
    if (t > now) break;
    const v = holds(c, facts, t);
    if (v !== value) [value, last] = [v, t];
  }
  return last;
}

function evaluateFacts(c: Condition, facts: Facts, now: number, since: number | undefined): Evaluation {
  const member = holds(c, facts, now);
  const flippedAt = since === undefined || since >= now ? null : lastFlip(c, facts, since, now);
  for (const t of sortedInstants(c, facts, now)) if (holds(c, facts, t) !== member) return { member, nextChangeAt: t, flippedAt };
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
const asFacts = (x: ViewOrFacts): Facts => (isFacts(x) ? x : factsOf(x));

export function evaluateAll(defs: readonly SegmentDefinition[], view: ViewOrFacts, now: number, since?: number): Map<string, Evaluation> {
  const facts = asFacts(view);
  return new Map(defs.map((d) => [d.id, evaluateFacts(conditionOf(d), facts, now, since)]));
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
    out[path] = typeof v === 'string' ? v : Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(',') : JSON.stringify(v);
  }
  return out;
}
