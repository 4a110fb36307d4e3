// decide over the evaluator made cheaper for issue 12 gives the decisions the code before gave (the segments
// package's oracle, with the decide of then): same membership, reason, occurred_at, next change and traits, for the
// shipped definitions over random real profiles and every kind of trigger.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { beforeAll, describe } from 'vitest';
import { loadDefinitions, type SegmentDefinition } from '@profile-stream/segments';
import { D, H, T0, viewOf } from '@profile-stream/segments/testing';
import { profileEventArb } from '@profile-stream/segments/testing/arbitraries';
import * as oracle from '@profile-stream/segments/testing/oracle';
import { decide, type Trigger } from './decide.ts';

let defs: SegmentDefinition[] = [];
beforeAll(async () => {
  defs = await loadDefinitions(fileURLToPath(new URL('../../../segments', import.meta.url)));
});

const triggerArb: fc.Arbitrary<(now: number) => Trigger> = fc.oneof(
  fc.integer({ min: 0, max: 90 * 24 }).map((h) => (now: number) => ({ kind: 'event', at: now - h * H }) as Trigger),
  fc.integer({ min: -2, max: 90 * 24 }).map((h) => (now: number) => ({ kind: 'tick', at: now - h * H }) as Trigger),
  fc.constant(() => ({ kind: 'backfill' }) as Trigger),
);

// Half of the time `now` is an event's time plus one of the shipped durations: where answers flip by the clock.
const nowArb = (times: number[]) =>
  fc.oneof(
    fc.integer({ min: 0, max: 1100 * 24 }).map((h) => T0 + h * H + (h % 3) * 17 * 60_000 - D),
    fc.tuple(fc.nat(), fc.constantFrom(H, 30 * D, 90 * D, 180 * D, 365 * D)).map(([i, d]) => (times.length === 0 ? T0 : times[i % times.length]!) + d),
  );

describe('decide equals the decide of before issue 12 (oracle)', () => {
  test.prop(
    [
      fc
        .array(profileEventArb, { maxLength: 20 })
        .map((makers) => makers.map((m) => m()))
        .chain((events) => fc.tuple(fc.constant(events), nowArb(events.map((e) => e.event.occurred_at)))),
      triggerArb,
    ],
    { numRuns: 400 },
  )('shipped definitions, random profiles, event, tick and backfill triggers', ([events, now], trigger) => {
    const view = viewOf(events);
    assert.deepEqual(decide(defs, view, now, trigger(now)), oracle.decide(defs, view, now, trigger(now)));
  });
});
