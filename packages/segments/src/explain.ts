// Why a profile is in a segment or not: the condition tree (consent gate included, as conditionOf builds it) at `now`,
// each leaf with the operator, what the definition expects and the profile value it saw, each all / any / not with its
// subtree's result. Pure. A leaf's result is holds() itself, so an explanation cannot disagree with the evaluator.
import type { JsonValue } from '@profile-stream/profile';
import type { Condition } from './condition.ts';
import type { SegmentDefinition } from './definition.ts';
import { formatDuration } from './duration.ts';
import { aggregateAt, asFacts, conditionOf, holds, type ViewOrFacts } from './evaluate.ts';
import type { Facts } from './facts.ts';
import { rfmScores } from './rfm.ts';

export interface LeafExplanation {
  kind: 'leaf';
  holds: boolean;
  /** A profile field (dotted path); for aggregates what is counted or summed (`purchases`, `net_minor`, …); `rfm`. */
  field: string;
  /** The YAML operator (`eq`, `in`, `within_last`, …), `count` / `sum` for aggregates, `rfm` for RFM ranges. */
  operator: string;
  expected: JsonValue;
  /** The profile's value as the leaf saw it (null when absent); an aggregate's count or sum; the RFM scores. */
  actual: JsonValue;
}

export type Explanation = LeafExplanation | { kind: 'all' | 'any'; holds: boolean; of: Explanation[] } | { kind: 'not'; holds: boolean; of: Explanation };

type Leaf = Exclude<Condition, { kind: 'all' | 'any' | 'not' }>;

function leaf(c: Leaf, facts: Facts, now: number): LeafExplanation {
  const at = (field: string, operator: string, expected: JsonValue, actual: JsonValue): LeafExplanation => ({
    kind: 'leaf',
    holds: holds(c, facts, now),
    field,
    operator,
    expected,
    actual,
  });
  switch (c.kind) {
    case 'compare':
      return at(c.field, c.op, c.value, facts.value(c.field));
    case 'in':
      return at(c.field, 'in', [...c.values], facts.value(c.field));
    case 'contains':
    case 'exists':
      return at(c.field, c.kind, c.value, facts.value(c.field));
    case 'after':
      return at(c.field, 'after', { field: c.other, value: facts.value(c.other) }, facts.value(c.field));
    case 'within_last':
    case 'older_than':
    case 'within_next':
      return at(c.field, c.kind, formatDuration(c.ms), facts.value(c.field));
    case 'aggregate': {
      // As the YAML says it; bounds hold only the operators given (parseCondition drops the others).
      const expected: Record<string, JsonValue> = {};
      if (c.currency !== null) expected.currency = c.currency;
      if (c.within !== null) Object.assign(expected, { within: formatDuration(c.within), ending: c.ending });
      Object.assign(expected, c.bounds);
      return at(c.of, c.fn, expected, aggregateAt(c, facts, now));
    }
    case 'rfm': {
      const scores = rfmScores(c.model, facts.lastPurchaseAt, facts.ordersCount, facts.revenue, now);
      return at('rfm', 'rfm', { r: [...c.r], f: [...c.f], m: [...c.m] }, scores === null ? null : { ...scores });
    }
  }
}

function explainCondition(c: Condition, facts: Facts, now: number): Explanation {
  switch (c.kind) {
    case 'all':
    case 'any': {
      const of = c.of.map((x) => explainCondition(x, facts, now));
      return { kind: c.kind, holds: c.kind === 'all' ? of.every((x) => x.holds) : of.some((x) => x.holds), of };
    }
    case 'not': {
      const of = explainCondition(c.of, facts, now);
      return { kind: 'not', holds: !of.holds, of };
    }
    default:
      return leaf(c, facts, now);
  }
}

/** The definition's condition tree, consent gate included, explained on a profile view at `now`. */
export function explain(def: SegmentDefinition, view: ViewOrFacts, now: number): Explanation {
  return explainCondition(conditionOf(def), asFacts(view), now);
}

/**
 * The leaves that decide the answer: those whose result makes each all / any on the way come out as it does (every
 * child of an all that holds, the children that hold of an any that holds, …). Under a `not` they are the leaves that
 * decide its child, so their `holds` is the opposite of the answer's.
 */
export function decisiveLeaves(e: Explanation): LeafExplanation[] {
  if (e.kind === 'leaf') return [e];
  if (e.kind === 'not') return decisiveLeaves(e.of);
  return e.of.filter((x) => x.holds === e.holds).flatMap(decisiveLeaves);
}
