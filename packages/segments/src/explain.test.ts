// explain: the leaves with what they expected and saw, and the tree's answer always the evaluator's.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { beforeAll, describe } from 'vitest';
import { definitionFromValue, type SegmentDefinition } from './definition.ts';
import { formatDuration, parseDuration } from './duration.ts';
import { conditionOf, evaluate, holds } from './evaluate.ts';
import { decisiveLeaves, explain, type Explanation } from './explain.ts';
import { factsOf } from './facts.ts';
import { loadDefinitions } from './load.ts';
import { conditionTreeArb, profileEventArb } from './testing/arbitraries.ts';
import { D, T0, consent, purchase, viewOf } from './testing/events.ts';

let shipped: SegmentDefinition[] = [];
beforeAll(async () => {
  shipped = await loadDefinitions(fileURLToPath(new URL('../../../segments', import.meta.url)));
});
const def = (id: string) => shipped.find((d) => d.id === id)!;
const leaves = (e: Explanation): Explanation[] => (e.kind === 'leaf' ? [e] : e.kind === 'not' ? leaves(e.of) : e.of.flatMap(leaves));

describe('explain', () => {
  test('high-value: each currency’s net revenue in the window, the threshold, and which one made it hold', () => {
    const now = T0 + 100 * D;
    const view = viewOf([
      purchase(T0 + D, 'o1', { total: 30_000 }),
      purchase(T0 + 2 * D, 'o2', { total: 25_000 }),
      purchase(T0 + 3 * D, 'o3', { currency: 'EUR' }),
    ]);
    const e = explain(def('high-value'), view, now);
    assert.equal(e.kind, 'any');
    assert.equal(e.holds, true);
    assert.deepEqual(decisiveLeaves(e), [
      {
        kind: 'leaf',
        holds: true,
        field: 'net_minor',
        operator: 'sum',
        expected: { currency: 'GBP', within: '365d', ending: 'now', gte: 50_000 },
        actual: 55_000,
      },
    ]);
    assert.deepEqual(
      leaves(e).map((l) => l.kind === 'leaf' && [l.expected, l.actual, l.holds]),
      [
        [{ currency: 'GBP', within: '365d', ending: 'now', gte: 50_000 }, 55_000, true],
        [{ currency: 'EUR', within: '365d', ending: 'now', gte: 60_000 }, 1000, false],
        [{ currency: 'USD', within: '365d', ending: 'now', gte: 65_000 }, 0, false],
      ],
    );
    // A year on the purchases have left the window: the same leaves, now failing with 0.
    const later = explain(def('high-value'), view, T0 + 400 * D);
    assert.equal(later.holds, false);
    assert.deepEqual(
      decisiveLeaves(later).map((l) => [l.actual, l.holds]),
      [
        [0, false],
        [0, false],
        [0, false],
      ],
    );
  });

  test('the consent gate is the first leaf: consent withdrawn is why a profile with an e-mail is not e-mail reachable', () => {
    const granted = viewOf([consent(T0, 'email', true)]);
    const withdrawn = viewOf([consent(T0, 'email', true), consent(T0 + D, 'email', false)]);
    const g = explain(def('email-reachable'), granted, T0 + 2 * D);
    assert.equal(g.holds, true);
    assert.deepEqual(
      decisiveLeaves(g).map((l) => [l.field, l.operator, l.expected, l.actual]),
      [
        ['consent.email.granted', 'eq', true, true],
        ['identity.emails', 'exists', true, ['alice@example.com']],
      ],
    );
    const w = explain(def('email-reachable'), withdrawn, T0 + 2 * D);
    assert.equal(w.holds, false);
    assert.deepEqual(
      decisiveLeaves(w).map((l) => [l.field, l.actual, l.holds]),
      [['consent.email.granted', false, false]],
    );
  });

  test('stale-contact: why names the contact data and its newest confirmation, and why not once a contact is confirmed again', () => {
    const view = viewOf([purchase(T0, 'o1')]);
    const stale = explain(def('stale-contact'), view, T0 + 400 * D);
    assert.equal(stale.holds, true);
    assert.deepEqual(
      decisiveLeaves(stale).map((l) => [l.field, l.operator, l.expected, l.actual]),
      [
        ['identity.emails', 'exists', true, ['alice@example.com']],
        ['freshness.contact_confirmed_at', 'older_than', '365d', new Date(T0).toISOString()],
      ],
    );
    const confirmed = explain(def('stale-contact'), viewOf([purchase(T0, 'o1'), purchase(T0 + 399 * D, 'o2')]), T0 + 400 * D);
    assert.equal(confirmed.holds, false);
    assert.deepEqual(
      decisiveLeaves(confirmed).map((l) => [l.field, l.actual, l.holds]),
      [['freshness.contact_confirmed_at', new Date(T0 + 399 * D).toISOString(), false]],
    );
  });

  test('time leaves show durations as written, rfm its ranges and the scores; a not inverts its child', () => {
    const d = definitionFromValue(
      {
        id: 'x',
        version: 1,
        name: 'X',
        description: 'x',
        condition: {
          all: [
            { field: 'transactions.last_purchase_at', within_last: '30d' },
            { not: { field: 'transactions.orders_count', gte: 3 } },
            { rfm: { r: [4, 5] } },
          ],
        },
      },
      'x.yaml',
    );
    const view = viewOf([purchase(T0, 'o1')]);
    const e = explain(d, view, T0 + D);
    assert.equal(e.holds, true);
    assert.deepEqual(
      decisiveLeaves(e).map((l) => [l.field, l.operator, l.expected, l.actual, l.holds]),
      [
        ['transactions.last_purchase_at', 'within_last', '30d', new Date(T0).toISOString(), true],
        ['transactions.orders_count', 'gte', 3, 1, false],
        ['rfm', 'rfm', { r: [4, 5], f: [1, 5], m: [1, 5] }, { r: 5, f: 1, m: 1 }, true],
      ],
    );
    assert.equal(explain(d, viewOf([]), T0).holds, false);
    const none = decisiveLeaves(explain(d, viewOf([]), T0));
    assert.deepEqual(
      none.map((l) => [l.field, l.actual]),
      [
        ['transactions.last_purchase_at', null],
        ['rfm', null],
      ],
    );
  });

  test('formatDuration writes what parseDuration reads back', () => {
    for (const s of ['90s', '15m', '1h', '36h', '30d', '365d', '14d']) assert.equal(parseDuration(formatDuration(parseDuration(s)!)), parseDuration(s));
    assert.equal(formatDuration(7 * D), '7d');
    assert.equal(formatDuration(1500), '1500ms');
  });
});

// ---- property: the explanation's answer is the evaluator's, for shipped and random definitions ----
const viewArb = fc.array(profileEventArb, { maxLength: 25 }).map((makers) => viewOf(makers.map((m) => m())));
const nowArb = fc.integer({ min: -2, max: 1200 }).chain((d) => fc.integer({ min: 0, max: 23 }).map((h) => T0 + d * D + h * 3_600_000));
const TIME = ['transactions.last_purchase_at', 'activity.last_seen_at', 'transactions.first_purchase_at'];
const leafArb = fc.oneof(
  fc.record({ field: fc.constantFrom(...TIME), within_last: fc.constantFrom('1h', '30d', '365d') }),
  fc.record({ field: fc.constantFrom(...TIME), older_than: fc.constantFrom('2d', '90d') }),
  fc.record({ field: fc.constantFrom(...TIME), after: fc.constantFrom(...TIME) }),
  fc.record({ count: fc.constantFrom('purchases', 'product_views'), within: fc.constantFrom('30d', '365d'), gte: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ sum: fc.constantFrom('total_minor', 'net_minor'), currency: fc.constantFrom('GBP', 'EUR'), lt: fc.integer({ min: 0, max: 80_000 }) }),
  fc.record({ rfm: fc.record({ r: fc.integer({ min: 1, max: 5 }) }) }),
  fc.record({ field: fc.constant('support.last_csat'), in: fc.uniqueArray(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ field: fc.constant('transactions.channels'), contains: fc.constant('web') }),
  fc.record({ field: fc.constant('identity.emails'), exists: fc.boolean() }),
  fc.record({ field: fc.constant('transactions.orders_count'), neq: fc.integer({ min: 0, max: 3 }) }),
);
const randomDefArb = fc
  .tuple(conditionTreeArb(leafArb), fc.option(fc.constantFrom('email', 'sms')))
  .map(([condition, gate]) =>
    definitionFromValue({ id: 'r', version: 1, name: 'R', description: 'random', condition, ...(gate ? { requires_consent: gate } : {}) }, 'r.yaml'),
  );

/** Every node's result follows from its children and every leaf's is holds() of that leaf (walked with the tree). */
function consistent(e: Explanation, c: ReturnType<typeof conditionOf>, facts: ReturnType<typeof factsOf>, now: number): void {
  if (c.kind === 'all' || c.kind === 'any') {
    assert.ok(e.kind === c.kind && e.of.length === c.of.length);
    for (const [i, x] of e.of.entries()) consistent(x, c.of[i]!, facts, now);
    assert.equal(e.holds, c.kind === 'all' ? e.of.every((x) => x.holds) : e.of.some((x) => x.holds));
  } else if (c.kind === 'not') {
    assert.ok(e.kind === 'not');
    consistent(e.of, c.of, facts, now);
    assert.equal(e.holds, !e.of.holds);
  } else {
    assert.equal(e.kind, 'leaf');
    assert.equal(e.holds, holds(c, facts, now));
  }
}

describe('explain agrees with evaluate', () => {
  test.prop([viewArb, nowArb], { numRuns: 300 })('shipped definitions on generated profiles', (view, now) => {
    const facts = factsOf(view);
    for (const d of shipped) {
      const e = explain(d, view, now);
      assert.equal(e.holds, evaluate(d, view, now).member, d.id);
      consistent(e, conditionOf(d), facts, now);
      // Something always decides: an answer never rests on no leaf.
      assert.ok(decisiveLeaves(e).length > 0, d.id);
    }
  });

  test.prop([viewArb, randomDefArb, nowArb], { numRuns: 300 })('random condition trees', (view, d, now) => {
    const e = explain(d, view, now);
    assert.equal(e.holds, evaluate(d, view, now).member);
    consistent(e, conditionOf(d), factsOf(view), now);
    assert.equal(JSON.stringify(explain(d, factsOf(view), now)), JSON.stringify(e), 'a view or its facts: the same explanation');
  });
});
