// The evaluator made cheaper for issue 12 answers exactly as it did before: every public function compared with the
// oracle (testing/oracle.ts, the code as it was) on random real profiles, the shipped definitions and random
// definitions, at random instants, with and without `since`.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { beforeAll, describe } from 'vitest';
import type { JsonValue } from '@profile-stream/profile';
import { FIELD_CATALOGUE } from './catalogue.ts';
import { definitionFromValue } from './definition.ts';
import type { SegmentDefinition } from './definition.ts';
import { blockedByConsent, candidates, conditionOf, evaluate, evaluateAll, holds, traitsOf } from './evaluate.ts';
import { factsOf } from './facts.ts';
import { loadDefinitions } from './load.ts';
import { DEFAULT_RFM_MODEL, rfmChanges, rfmScores } from './rfm.ts';
import { D, T0, viewOf } from './testing/events.ts';
import { conditionTreeArb, profileEventArb } from './testing/arbitraries.ts';
import * as oracle from './testing/oracle.ts';

const RUNS = { numRuns: 300 };
let shipped: SegmentDefinition[] = [];
beforeAll(async () => {
  shipped = await loadDefinitions(fileURLToPath(new URL('../../../segments', import.meta.url)));
});

// ---- profiles: up to two years of purchases (three currencies, refunds, cancellations), clicks, consent, tickets ----
const viewArb = fc.array(profileEventArb, { maxLength: 25 }).map((makers) => viewOf(makers.map((m) => m())));

// ---- definitions: every leaf kind, nested, with and without a consent gate ----
const dur = fc.constantFrom('1h', '12h', '2d', '10d', '30d', '90d', '365d');
const TIME_FIELDS = ['transactions.last_purchase_at', 'transactions.first_purchase_at', 'activity.last_seen_at', 'activity.cart.last_add_to_cart_at'];
const score = fc.oneof(
  fc.integer({ min: 1, max: 5 }),
  fc.integer({ min: 1, max: 5 }).chain((lo) => fc.integer({ min: lo, max: 5 }).map((hi) => [lo, hi])),
);
const bound = (max: number) => fc.constantFrom('gte', 'lte', 'gt', 'lt', 'eq').chain((op) => fc.integer({ min: 0, max }).map((v) => ({ [op]: v })));
const window = fc.record({ within: dur, ending: fc.constantFrom('now', 'last_purchase') }, { requiredKeys: [] });
const leaf = fc.oneof(
  fc.record({ field: fc.constantFrom(...TIME_FIELDS), within_last: dur }),
  fc.record({ field: fc.constantFrom(...TIME_FIELDS), older_than: dur }),
  fc.record({ field: fc.constantFrom(...TIME_FIELDS), within_next: dur }),
  fc.record({ field: fc.constantFrom(...TIME_FIELDS), exists: fc.boolean() }),
  fc.record({ field: fc.constantFrom(...TIME_FIELDS), after: fc.constantFrom(...TIME_FIELDS) }),
  fc.tuple(fc.constantFrom('purchases', 'product_views'), window, bound(6)).map(([of, w, b]) => ({ count: of, ...w, ...b })),
  fc
    .tuple(fc.constantFrom('total_minor', 'net_minor'), fc.constantFrom('GBP', 'EUR', 'USD'), window, bound(80_000))
    .map(([of, currency, w, b]) => ({ sum: of, currency, ...w, ...b })),
  fc.record(
    {
      rfm: fc.record({ r: score, f: score, m: score }, { requiredKeys: [] }),
      model: fc.constant({ recency: ['1d', '3d', '10d', '40d'], frequency: [2, 3, 4, 5], monetary: { GBP: [1000, 2000, 3000, 4000] } }),
    },
    { requiredKeys: ['rfm'] },
  ),
  fc.record({ field: fc.constantFrom('transactions.orders_count', 'support.open_urgent_tickets', 'support.last_csat'), gte: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ field: fc.constant('support.last_csat'), in: fc.uniqueArray(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ field: fc.constant('transactions.channels'), contains: fc.constantFrom('web', 'app') }),
  fc.record({ field: fc.constant('identity.emails'), exists: fc.boolean() }),
  fc.record({ field: fc.constant('consent.email.granted'), neq: fc.boolean() }),
);
const tree = conditionTreeArb(leaf);
const TRAITS = Object.keys(FIELD_CATALOGUE).map((f) => f.replace('<currency>', 'GBP').replace('<purpose>', 'email').replace('<key>', 'purchase'));
const defArb = fc
  .tuple(tree, fc.option(fc.constantFrom('email', 'sms')), fc.subarray(TRAITS, { maxLength: 6 }))
  .map(([condition, gate, traits]) =>
    definitionFromValue(
      { id: 'r', version: 1, name: 'R', description: 'random', condition, traits, ...(gate ? { requires_consent: gate } : {}) },
      'random.yaml',
    ),
  );
const defsArb = fc.array(defArb, { minLength: 1, maxLength: 4 }).map((ds) => ds.map((d, i) => ({ ...d, id: `r${i}` })));

// ---- instants: around the profile's two years and after; since before, at or after now ----
// Whole hours half of the time: events and durations are whole hours, so instants then fall exactly on candidates.
const minutes = (min: number, max: number) =>
  fc.oneof(
    fc.integer({ min, max }),
    fc.integer({ min: min / 60, max: max / 60 }).map((h) => h * 60),
  );
const nowArb = minutes(-2 * 24 * 60, 1200 * 24 * 60).map((m) => T0 + m * 60_000);
const sinceArb = fc.option(
  minutes(-400 * 24 * 60, 60).map((m) => m * 60_000),
  { nil: undefined },
);

const json = (x: unknown) => JSON.stringify(x, (_k, v) => (v instanceof Map ? [...v] : v));

describe('the evaluator equals the oracle (the code before issue 12)', () => {
  test.prop([viewArb, nowArb, sinceArb], RUNS)('shipped definitions: evaluateAll, evaluate, traits and the consent check', (view, now, back) => {
    const since = back === undefined ? undefined : now + back;
    assert.equal(json(evaluateAll(shipped, view, now, since)), json(oracle.evaluateAll(shipped, view, now, since)));
    const facts = factsOf(view);
    for (const def of shipped) {
      assert.deepEqual(evaluate(def, view, now, since), oracle.evaluate(def, view, now, since), def.id);
      assert.equal(json(traitsOf(def, facts)), json(oracle.traitsOf(def, view)), def.id);
      assert.equal(blockedByConsent(def, facts, now), oracle.blockedByConsent(def, view, now), def.id);
    }
  });

  test.prop([viewArb, defsArb, nowArb, sinceArb], RUNS)('random definitions: evaluateAll, holds, candidates, traits', (view, defs, now, back) => {
    const since = back === undefined ? undefined : now + back;
    assert.equal(json(evaluateAll(defs, view, now, since)), json(oracle.evaluateAll(defs, view, now, since)));
    const [facts, before] = [factsOf(view), oracle.factsOf(view)];
    for (const def of defs) {
      const c = conditionOf(def);
      assert.equal(holds(c, facts, now), oracle.holds(c, before, now));
      // fewer when a field leaf settles an all/any (those instants change nothing: evaluateAll above is equal)
      const all = oracle.candidates(c, before, now);
      for (const t of candidates(c, facts, now)) assert.ok(all.includes(t), `${t} is not a candidate of the oracle`);
      assert.equal(json(traitsOf(def, view)), json(oracle.traitsOf(def, view)));
      assert.equal(blockedByConsent(def, view, now), oracle.blockedByConsent(def, view, now));
    }
  });

  test.prop([viewArb, defsArb, minutes(0, 400 * 24 * 60)], { numRuns: 150 })(
    'at the instants where answers change, one ms either side, and since exactly on one',
    (view, defs, back) => {
      const facts = factsOf(view);
      for (const def of [...shipped, ...defs]) {
        const instants = [...new Set(oracle.candidates(conditionOf(def), facts, T0 - 3 * D))].slice(0, 12);
        for (const t of instants) {
          for (const [now, since] of [
            [t, t - back * 60_000],
            [t, t - 1],
            [t - 1, t - back * 60_000],
            [t + 1, t],
            [t + back * 60_000, t],
          ] as const) {
            assert.deepEqual(evaluate(def, view, now, since), oracle.evaluate(def, view, now, since), `${def.id} at ${now - T0}, since ${since - T0}`);
          }
        }
      }
    },
  );

  test.prop([viewArb, nowArb], RUNS)('factsOf: the same facts, values and times (also from a view listing points out of order)', (view, now) => {
    const shuffled = structuredClone(view) as { transactions: { purchases: JsonValue[] }; activity: { recent_product_view_times?: JsonValue[] } };
    shuffled.transactions.purchases.reverse();
    shuffled.activity.recent_product_view_times?.reverse();
    for (const v of [view, shuffled as unknown as JsonValue]) {
      const [facts, before] = [factsOf(v), oracle.factsOf(v)];
      const { value: _v, time: _t, ...plain } = facts;
      const { value: _ov, time: _ot, ...plainBefore } = before;
      assert.deepEqual(plain, plainBefore);
      for (const path of [...TRAITS, ...TIME_FIELDS, 'transactions', 'nope.nothing', 'transactions.purchases.0', '']) {
        assert.deepEqual(facts.value(path), before.value(path), path);
        assert.equal(facts.time(path), before.time(path), path);
      }
      for (const def of shipped) assert.equal(json(evaluateAll([def], v, now, now - 30 * D)), json(oracle.evaluateAll([def], v, now, now - 30 * D)));
    }
  });

  test.prop(
    [
      fc.option(fc.integer({ min: 0, max: 1000 }).map((d) => T0 + d * D)),
      fc.integer({ min: 0, max: 12 }),
      fc.dictionary(fc.constantFrom('GBP', 'EUR', 'USD', 'JPY', '__proto__', 'toString'), fc.integer({ min: 0, max: 200_000 })),
      fc.integer({ min: 0, max: 1400 }).map((d) => T0 + d * D),
    ],
    { numRuns: 500 },
  )('rfmScores and rfmChanges', (last, orders, revenue, now) => {
    assert.deepEqual(rfmScores(DEFAULT_RFM_MODEL, last, orders, revenue, now), oracle.rfmScores(DEFAULT_RFM_MODEL, last, orders, revenue, now));
    assert.deepEqual(rfmChanges(DEFAULT_RFM_MODEL, last, now), oracle.rfmChanges(DEFAULT_RFM_MODEL, last, now));
  });
});
