// THE ORACLE: the evaluator exactly as it was before issue 12 made it cheaper (evaluate.ts, facts.ts, rfm.ts at
// 17e38f2, and the segmenter's decide), kept unoptimised as the reference that the property tests compare the
// real evaluator with (evaluate-oracle.test.ts, the segmenter's decide.test.ts) and that bench/evaluate.ts times as
// "before". Not for production use. Change it only with a behaviour change the property tests must then follow.
import type { JsonValue } from '@profile-stream/profile';
import type { Bounds, Condition, Range } from '../condition.ts';
import type { SegmentDefinition } from '../definition.ts';
import type { Evaluation } from '../evaluate.ts';
import type { Facts, PurchaseFact } from '../facts.ts';
import type { RfmModel, RfmScores } from '../rfm.ts';

// ---- facts.ts ----
type JsonObject = { [key: string]: JsonValue };
const isObject = (v: JsonValue | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function at(view: JsonValue, path: string): JsonValue {
  let v: JsonValue | undefined = view;
  for (const key of path.split('.')) v = isObject(v) && Object.hasOwn(v, key) ? v[key] : undefined;
  return v ?? null;
}

function toTime(v: JsonValue): number | null {
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : null;
}

export function factsOf(view: JsonValue): Facts {
  const times = new Map<string, number | null>();
  const time = (path: string): number | null => {
    if (!times.has(path)) times.set(path, toTime(at(view, path)));
    return times.get(path)!;
  };
  const raw = at(view, 'transactions.purchases');
  const purchases = (Array.isArray(raw) ? raw : [])
    .filter(isObject)
    .flatMap((p) => {
      const t = toTime(p.at ?? null);
      return t === null
        ? []
        : [
            {
              at: t,
              currency: String(p.currency ?? ''),
              total_minor: typeof p.total_minor === 'number' ? p.total_minor : 0,
              refunded_minor: typeof p.refunded_minor === 'number' ? p.refunded_minor : 0,
            },
          ];
    })
    .sort((a, b) => a.at - b.at);
  const viewTimes = at(view, 'activity.recent_product_view_times');
  const productViews = (Array.isArray(viewTimes) ? viewTimes : [])
    .flatMap((x) => {
      const t = toTime(x);
      return t === null ? [] : [{ at: t, currency: '', total_minor: 0, refunded_minor: 0 }];
    })
    .sort((a, b) => a.at - b.at);
  const revenue = at(view, 'transactions.revenue_minor');
  const orders = at(view, 'transactions.orders_count');
  return {
    value: (path) => at(view, path),
    time,
    purchases,
    productViews,
    lastPurchaseAt: time('transactions.last_purchase_at'),
    ordersCount: typeof orders === 'number' ? orders : 0,
    revenue: isObject(revenue) ? Object.fromEntries(Object.entries(revenue).filter((e): e is [string, number] => typeof e[1] === 'number')) : {},
  };
}

// ---- rfm.ts ----
function reached(value: number, breakpoints: readonly number[]): number {
  return 1 + breakpoints.filter((b) => value >= b).length;
}

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

export function rfmChanges(model: RfmModel, lastPurchaseAt: number | null, now: number): number[] {
  return lastPurchaseAt === null ? [] : model.recency.map((b) => lastPurchaseAt + b).filter((t) => t > now);
}

// ---- evaluate.ts ----
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
    case 'within_next': {
      const a = facts.time(c.field);
      return a !== null && t >= a - c.ms && t < a;
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
    case 'within_next': {
      const a = facts.time(c.field);
      for (const x of a === null ? [] : [a - c.ms, a]) if (x > now) out.push(x);
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

export function evaluate(def: SegmentDefinition, view: JsonValue, now: number, since?: number): Evaluation {
  return evaluateFacts(conditionOf(def), factsOf(view), now, since);
}

type ViewOrFacts = JsonValue | Facts;
const isFacts = (x: ViewOrFacts): x is Facts => typeof x === 'object' && x !== null && typeof (x as { value?: unknown }).value === 'function';
const asFacts = (x: ViewOrFacts): Facts => (isFacts(x) ? x : factsOf(x));

export function evaluateAll(defs: readonly SegmentDefinition[], view: ViewOrFacts, now: number, since?: number): Map<string, Evaluation> {
  const facts = asFacts(view);
  return new Map(defs.map((d) => [d.id, evaluateFacts(conditionOf(d), facts, now, since)]));
}

export function blockedByConsent(def: SegmentDefinition, view: ViewOrFacts, now: number): boolean {
  if (def.requires_consent === null) return false;
  const facts = asFacts(view);
  return facts.value(`consent.${def.requires_consent}.granted`) !== true && holds(def.condition, facts, now);
}

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

// ---- the segmenter's decide.ts (its Decision and Trigger types written out: segments does not depend on it) ----
export type Trigger = { kind: 'event'; at: number } | { kind: 'tick'; at: number } | { kind: 'backfill' };
export interface Decision {
  segment: string;
  definitionVersion: number;
  member: boolean;
  reason: 'definition_changed' | 'time_elapsed' | 'rule_matched' | 'consent_withdrawn' | 'rule_unmatched';
  occurredAt: number;
  nextChangeAt: number | null;
  traits: Record<string, string>;
}

export function decide(defs: readonly SegmentDefinition[], view: JsonValue, now: number, trigger: Trigger): Decision[] {
  const since = trigger.kind === 'backfill' ? undefined : Math.min(trigger.at, now) - (trigger.kind === 'tick' ? 1 : 0);
  const base = trigger.kind === 'backfill' ? now : Math.min(trigger.at, now);
  const facts = factsOf(view);
  const evaluations = evaluateAll(defs, facts, now, since);
  return defs.map((def) => {
    const e = evaluations.get(def.id)!;
    let reason: Decision['reason'];
    if (trigger.kind === 'backfill') reason = 'definition_changed';
    else if (trigger.kind === 'tick' || e.flippedAt !== null) reason = 'time_elapsed';
    else if (e.member) reason = 'rule_matched';
    else reason = blockedByConsent(def, facts, now) ? 'consent_withdrawn' : 'rule_unmatched';
    return {
      segment: def.id,
      definitionVersion: def.version,
      member: e.member,
      reason,
      occurredAt: e.flippedAt ?? base,
      nextChangeAt: e.nextChangeAt,
      traits: traitsOf(def, facts),
    };
  });
}
