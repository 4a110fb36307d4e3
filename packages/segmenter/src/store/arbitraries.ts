/**
 * Test support: random evaluations of members of shard 0 (of 4), for the property tests of the APPLY script
 * (store.int.test.ts: applyMany against one by one; apply-script.int.test.ts: against the previous script).
 */
import fc from 'fast-check';
import { shardOf } from './keys.ts';
import type { Decision, Evaluation } from './records.ts';

/** `count` member ids of shard 0 of 4. */
export function shardZeroMembers(count: number): string[] {
  const pids: string[] = [];
  for (let i = 0; pids.length < count; i++) if (shardOf(`p${i}`, 4) === 0) pids.push(`p${i}`);
  return pids;
}

/**
 * An evaluation of one of `pids`: up to `segments.length` decisions, one per segment at most; `everySegment`: one per
 * segment, in the order given (as the segmenter's definitions give them: what the store's partial sends rely on).
 */
export function evaluationOf(
  pids: readonly string[],
  segments: readonly string[],
  o: { maxVersion: number; maxDefinitionVersion: number; everySegment?: boolean },
): fc.Arbitrary<Evaluation> {
  const decisionOf = (segment: fc.Arbitrary<string>) =>
    fc.record({
      segment,
      definitionVersion: fc.integer({ min: 1, max: o.maxDefinitionVersion }),
      member: fc.boolean(),
      reason: fc.constantFrom('rule_matched', 'rule_unmatched', 'time_elapsed', 'consent_withdrawn') as fc.Arbitrary<Decision['reason']>,
      occurredAt: fc.integer({ min: 0, max: 10_000 }),
      nextChangeAt: fc.option(fc.integer({ min: 10_000, max: 20_000 }), { nil: null }),
      traits: fc.dictionary(fc.constantFrom('a', 'b'), fc.string({ maxLength: 3 }), { maxKeys: 2 }),
    });
  const decisions: fc.Arbitrary<Decision[]> = o.everySegment
    ? fc.tuple(...segments.map((s) => decisionOf(fc.constant(s))))
    : fc.uniqueArray(decisionOf(fc.constantFrom(...segments)), { selector: (x) => x.segment, maxLength: segments.length });
  return fc.record({
    pid: fc.constantFrom(...pids),
    profileVersion: fc.integer({ min: 0, max: o.maxVersion }),
    trigger: fc.option(fc.constantFrom('e1', 'e2'), { nil: null }),
    decisions,
  });
}
