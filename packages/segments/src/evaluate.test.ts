// The evaluator on its own: leaf semantics at the boundaries, nextChangeAt through not/any trees, and the
// property that nothing flips between now and nextChangeAt (random definitions over random real profiles).
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import fc from 'fast-check';
import type { FoldInput } from '@profile-stream/profile';
import { definitionFromValue } from './definition.ts';
import type { SegmentDefinition } from './definition.ts';
import { evaluate } from './evaluate.ts';
import { D, H, T0, click, consent, purchase, viewOf } from './testing/events.ts';
import { conditionTreeArb } from './testing/arbitraries.ts';

const def = (condition: unknown, extra: object = {}): SegmentDefinition =>
  definitionFromValue({ id: 't', version: 1, name: 'T', description: 'test', condition, ...extra }, 'test.yaml');

describe('evaluate', () => {
  const view = viewOf([purchase(T0, 'o1'), purchase(T0 + 10 * D, 'o2'), click(T0 + 20 * D, 'page_view')]);

  it('within_last holds until t + D exclusive, older_than from t + D inclusive', () => {
    const within = def({ field: 'transactions.last_purchase_at', within_last: '30d' });
    const older = def({ field: 'transactions.last_purchase_at', older_than: '30d' });
    const end = T0 + 40 * D;
    assert.deepEqual(evaluate(within, view, end - 1), { member: true, nextChangeAt: end, flippedAt: null });
    assert.deepEqual(evaluate(within, view, end), { member: false, nextChangeAt: null, flippedAt: null });
    assert.deepEqual(evaluate(older, view, end - 1), { member: false, nextChangeAt: end, flippedAt: null });
    assert.deepEqual(evaluate(older, view, end), { member: true, nextChangeAt: null, flippedAt: null });
  });

  it('a windowed count changes as each order leaves the window', () => {
    const two = def({ count: 'purchases', within: '30d', gte: 2 });
    assert.deepEqual(evaluate(two, view, T0 + 10 * D), { member: true, nextChangeAt: T0 + 30 * D, flippedAt: null });
    const one = def({ count: 'purchases', within: '30d', eq: 1 });
    assert.deepEqual(evaluate(one, view, T0 + 10 * D), { member: false, nextChangeAt: T0 + 30 * D, flippedAt: null });
    assert.deepEqual(evaluate(one, view, T0 + 30 * D), { member: true, nextChangeAt: T0 + 40 * D, flippedAt: null });
  });

  it('not/any: the earliest candidate where the whole tree differs, skipping candidates that change nothing', () => {
    // any(seen in the last 5 d, bought in the last 30 d): the first leaf flips at +25 d, which changes nothing;
    // the tree flips at +40 d, when the second leaf does too.
    const either = def({
      any: [
        { field: 'activity.last_seen_at', within_last: '5d' },
        { field: 'transactions.last_purchase_at', within_last: '30d' },
      ],
    });
    assert.deepEqual(evaluate(either, view, T0 + 20 * D), { member: true, nextChangeAt: T0 + 40 * D, flippedAt: null });
    const neither = def({
      not: {
        any: [
          { field: 'activity.last_seen_at', within_last: '5d' },
          { field: 'transactions.last_purchase_at', within_last: '30d' },
        ],
      },
    });
    assert.deepEqual(evaluate(neither, view, T0 + 20 * D), { member: false, nextChangeAt: T0 + 40 * D, flippedAt: null });
    // all(seen in the last 5 d, not bought in the last 30 d): never true at the same time → never flips
    const never = def({
      all: [{ field: 'activity.last_seen_at', within_last: '5d' }, { not: { field: 'transactions.last_purchase_at', within_last: '30d' } }],
    });
    assert.deepEqual(evaluate(never, view, T0 + 20 * D), { member: false, nextChangeAt: null, flippedAt: null });
  });

  it('absent fields: comparisons are false except neq; exists treats an empty list as absent', () => {
    const empty = viewOf([]);
    assert.equal(evaluate(def({ field: 'support.last_csat', lte: 2 }), empty, T0).member, false);
    assert.equal(evaluate(def({ field: 'support.last_csat', neq: 2 }), empty, T0).member, true);
    assert.equal(evaluate(def({ field: 'identity.emails', exists: true }), empty, T0).member, false);
    assert.equal(evaluate(def({ field: 'transactions.last_purchase_at', older_than: '1h' }), empty, T0).member, false);
  });

  it('requires_consent gates on consent.<purpose>.granted === true', () => {
    const d = def({ field: 'transactions.orders_count', gte: 1 }, { requires_consent: 'sms' });
    assert.equal(evaluate(d, view, T0 + 30 * D).member, false);
    const v = viewOf([purchase(T0, 'o1'), consent(T0, 'sms', true)]);
    assert.equal(evaluate(d, v, T0 + 30 * D).member, true);
  });
});

// ---- property: nextChangeAt is exact ----

const DURATIONS = ['1h', '12h', '2d', '10d', '30d', '90d'];
const dur = fc.constantFrom(...DURATIONS);
const TIME_FIELDS = ['transactions.last_purchase_at', 'transactions.first_purchase_at', 'activity.last_seen_at', 'activity.cart.last_add_to_cart_at'];
const score = fc.integer({ min: 1, max: 5 }).chain((lo) => fc.integer({ min: lo, max: 5 }).map((hi) => [lo, hi]));
const leaf = fc.oneof(
  fc.record({ field: fc.constantFrom(...TIME_FIELDS), within_last: dur }),
  fc.record({ field: fc.constantFrom(...TIME_FIELDS), older_than: dur }),
  fc.record({ field: fc.constantFrom(...TIME_FIELDS), within_next: dur }),
  fc.record({ count: fc.constant('purchases'), within: dur, gte: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ count: fc.constant('purchases'), within: dur, lte: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ count: fc.constant('product_views'), within: dur, gte: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ sum: fc.constant('net_minor'), currency: fc.constant('GBP'), within: dur, gte: fc.integer({ min: 0, max: 5000 }) }),
  fc.record({ count: fc.constant('purchases'), within: dur, ending: fc.constant('last_purchase'), gte: fc.integer({ min: 1, max: 3 }) }),
  fc.record({
    rfm: fc.record({ r: score, f: score }),
    model: fc.constant({ recency: ['1d', '3d', '10d', '40d'], frequency: [2, 3, 4, 5], monetary: { GBP: [1000, 2000, 3000, 4000] } }),
  }),
  fc.record({ field: fc.constant('activity.cart.last_add_to_cart_at'), after: fc.constant('transactions.last_purchase_at') }),
  fc.record({ field: fc.constant('transactions.orders_count'), gte: fc.integer({ min: 0, max: 3 }) }),
);
const tree = conditionTreeArb(leaf);

const at = fc.integer({ min: 0, max: 60 * 24 }).map((h) => T0 + h * H);
const eventArb: fc.Arbitrary<() => FoldInput> = fc.oneof(
  fc
    .tuple(
      at,
      fc.constantFrom('o1', 'o2', 'o3', 'o4', 'o5'),
      fc.constantFrom('completed', 'completed', 'cancelled', 'refunded') as fc.Arbitrary<'completed' | 'cancelled' | 'refunded'>,
      fc.integer({ min: 100, max: 3000 }),
    )
    .map(
      ([t, o, status, total]) =>
        () =>
          purchase(t, o, { status, total }),
    ),
  fc
    .tuple(
      at,
      fc.constantFrom('add_to_cart', 'page_view', 'checkout_started', 'product_view') as fc.Arbitrary<
        'add_to_cart' | 'page_view' | 'checkout_started' | 'product_view'
      >,
    )
    .map(
      ([t, type]) =>
        () =>
          click(t, type),
    ),
);

describe('nextChangeAt (property)', () => {
  it('no flip strictly between now and nextChangeAt; it flips exactly at nextChangeAt', () => {
    fc.assert(
      fc.property(
        tree,
        fc.array(eventArb, { maxLength: 12 }),
        fc.integer({ min: 0, max: 120 * 24 * 60 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 8, maxLength: 8 }),
        (condition, makers, minutes, samples) => {
          const d = def(condition);
          const view = viewOf(makers.map((m) => m()));
          const now = T0 + minutes * 60_000;
          const r = evaluate(d, view, now);
          const horizon = r.nextChangeAt ?? now + 400 * D;
          if (r.nextChangeAt !== null) {
            assert.ok(r.nextChangeAt > now);
            assert.equal(evaluate(d, view, r.nextChangeAt - 1).member, r.member);
            assert.notEqual(evaluate(d, view, r.nextChangeAt).member, r.member);
          }
          for (const s of samples) {
            const t = now + Math.floor(s * (horizon - now));
            if (t < horizon) assert.equal(evaluate(d, view, t).member, r.member, `flip at ${t - now} ms after now`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('flippedAt (property)', () => {
  it('is the last flip in (since, now]: the answer differs just before it and holds from it to now', () => {
    fc.assert(
      fc.property(
        tree,
        fc.array(eventArb, { maxLength: 12 }),
        fc.integer({ min: 0, max: 120 * 24 * 60 }),
        fc.integer({ min: 1, max: 90 * 24 * 60 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 6, maxLength: 6 }),
        (condition, makers, minutes, back, samples) => {
          const d = def(condition);
          const view = viewOf(makers.map((m) => m()));
          const now = T0 + minutes * 60_000;
          const since = now - back * 60_000;
          const r = evaluate(d, view, now, since);
          if (r.flippedAt === null) {
            for (const s of samples) assert.equal(evaluate(d, view, since + Math.floor(s * (now - since))).member, r.member);
            assert.equal(evaluate(d, view, since).member, r.member);
            return;
          }
          assert.ok(r.flippedAt > since && r.flippedAt <= now);
          assert.notEqual(evaluate(d, view, r.flippedAt - 1).member, r.member);
          for (const s of samples) assert.equal(evaluate(d, view, r.flippedAt + Math.floor(s * (now - r.flippedAt))).member, r.member);
        },
      ),
      { numRuns: 300 },
    );
  });
});
