/**
 * From a profile view to the wanted membership of every segment, with the reason and the exact moment a
 * change would have happened (pure: `now` injected). The store compares with what it holds and writes changes.
 */
import type { JsonValue } from '@profile-stream/profile';
import { blockedByConsent, evaluateAll, factsOf, traitsOf, type SegmentDefinition } from '@profile-stream/segments';
import type { Decision } from './store/records.ts';

export type Trigger =
  /** A profile change caused by an input event at `at` (event time). */
  | { kind: 'event'; at: number }
  /** A scheduled re-evaluation due at `at`. */
  | { kind: 'tick'; at: number }
  /** A backfill after a definition was added or changed. */
  | { kind: 'backfill' };

export function decide(defs: readonly SegmentDefinition[], view: JsonValue, now: number, trigger: Trigger): Decision[] {
  // A flip by the clock between the trigger and now happened at its own instant (e.g. last purchase + 180 d for a
  // view evaluated long after); otherwise the change happened when the trigger did (never later than now).
  const since = trigger.kind === 'backfill' ? undefined : Math.min(trigger.at, now) - (trigger.kind === 'tick' ? 1 : 0);
  const base = trigger.kind === 'backfill' ? now : Math.min(trigger.at, now);
  const facts = factsOf(view); // read once for every definition, its traits and the consent check
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
