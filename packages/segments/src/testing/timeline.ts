// Timeline tests (STYLE habit 9): a table of steps (time, new events) → expected membership after each step, on a
// fake clock. Between steps the helper also checks the clock alone: a membership that changed with no new event
// must have announced it (nextChangeAt ≤ the step's time), and evaluating at nextChangeAt - 1 must not flip.
import assert from 'node:assert/strict';
import type { FoldInput } from '@profile-stream/profile';
import type { SegmentDefinition } from '../definition.ts';
import { evaluate } from '../evaluate.ts';
import type { Evaluation } from '../evaluate.ts';
import { viewOf } from './events.ts';

export interface Step {
  /** The fake clock at this step (epoch ms). */
  at: number;
  /** Events that arrived since the previous step (event time may be earlier than `at`: late events). */
  events?: readonly FoldInput[];
  /** Ids of the watched segments the profile is in after this step; every other watched one must be out. */
  members: readonly string[];
  /** Expected nextChangeAt per segment id after this step (null = never). */
  next?: Readonly<Record<string, number | null>>;
  note?: string;
}

export function runTimeline(defs: readonly SegmentDefinition[], watch: readonly string[], steps: readonly Step[]): void {
  const watched = watch.map((id) => {
    const d = defs.find((x) => x.id === id);
    assert.ok(d, `unknown segment ${id}`);
    return d;
  });
  const events: FoldInput[] = [];
  let previous: Map<string, Evaluation> | undefined;
  let previousAt = -Infinity;
  for (const [i, step] of steps.entries()) {
    const label = `step ${i} (${step.note ?? new Date(step.at).toISOString()})`;
    assert.ok(step.at >= previousAt, `${label}: steps go forward in time`);
    const view = viewOf(events);
    if (previous !== undefined) {
      // the clock alone, up to this step, with the previous step's events
      for (const d of watched) {
        const before: Evaluation = previous.get(d.id)!;
        const byClock = evaluate(d, view, step.at).member;
        if (byClock !== before.member)
          assert.ok(before.nextChangeAt !== null && before.nextChangeAt <= step.at, `${label}: ${d.id} flipped by the clock without announcing it`);
        if (before.nextChangeAt !== null) {
          assert.equal(evaluate(d, view, before.nextChangeAt - 1).member, before.member, `${label}: ${d.id} already flipped before nextChangeAt`);
          assert.notEqual(evaluate(d, view, before.nextChangeAt).member, before.member, `${label}: ${d.id} did not flip at nextChangeAt`);
        }
      }
    }
    events.push(...(step.events ?? []));
    const now = viewOf(events);
    const result = new Map(watched.map((d) => [d.id, evaluate(d, now, step.at)]));
    const members = watched
      .filter((d) => result.get(d.id)!.member)
      .map((d) => d.id)
      .sort();
    assert.deepEqual(members, [...step.members].sort(), `${label}: membership`);
    for (const [id, next] of Object.entries(step.next ?? {})) assert.equal(result.get(id)?.nextChangeAt, next, `${label}: nextChangeAt of ${id}`);
    previous = result;
    previousAt = step.at;
  }
}
