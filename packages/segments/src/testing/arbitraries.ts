// fast-check arbitraries shared by the segments and segmenter property tests: the events of a real profile (up to two
// years of purchases in three currencies with refunds and cancellations, clicks, consent, tickets) and condition trees.
import fc from 'fast-check';
import type { FoldInput } from '@profile-stream/profile';
import { H, T0, click, consent, purchase, ticket } from './events.ts';

/** An instant in the two years after T0, on the hour. */
export const instantArb = fc.integer({ min: 0, max: 730 * 24 }).map((h) => T0 + h * H);

/** One event of a profile, as a maker (each call builds it anew: events carry fresh ids). */
export const profileEventArb: fc.Arbitrary<() => FoldInput> = fc.oneof(
  fc
    .tuple(
      instantArb,
      fc.constantFrom('o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7', 'o8'),
      fc.constantFrom<'completed' | 'cancelled' | 'refunded'>('completed', 'completed', 'completed', 'cancelled', 'refunded'),
      fc.integer({ min: 100, max: 60_000 }),
      fc.constantFrom('GBP', 'GBP', 'EUR', 'USD'),
    )
    .map(
      ([t, o, status, total, currency]) =>
        () =>
          purchase(t, o, { status, total, currency }),
    ),
  fc.tuple(instantArb, fc.constantFrom<Parameters<typeof click>[1]>('add_to_cart', 'page_view', 'checkout_started', 'product_view', 'product_view')).map(
    ([t, type]) =>
      () =>
        click(t, type),
  ),
  fc.tuple(instantArb, fc.constantFrom<'email' | 'sms'>('email', 'sms'), fc.boolean()).map(
    ([t, p, g]) =>
      () =>
        consent(t, p, g),
  ),
  fc
    .tuple(
      instantArb,
      fc.constantFrom('k1', 'k2'),
      fc.constantFrom<Parameters<typeof ticket>[2]>('opened', 'resolved', 'reopened'),
      fc.option(fc.integer({ min: 1, max: 5 })),
    )
    .map(
      ([t, id, status, csat]) =>
        () =>
          ticket(t, id, status, csat),
    ),
);

/** Condition trees over `leaf`: all / any / not, up to three children, small depth. */
export function conditionTreeArb(leaf: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.letrec<{ node: unknown }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.record({ all: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
      fc.record({ any: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
      fc.record({ not: tie('node') }),
    ),
  })).node;
}
