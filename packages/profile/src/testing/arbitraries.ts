// fast-check arbitraries for the property tests: random canonical documents following RULES, and random event
// streams of the three input topics drawn from small pools (so orders, tickets, skus and ties collide often).
import fc from 'fast-check';
import {
  ClickEventTypeValues,
  ConsentPurposeValues,
  DeviceTypeValues,
  LoyaltyEventTypeValues,
  PurchaseChannelValues,
  PurchaseStatusValues,
  TicketChannelValues,
  TicketPriorityValues,
  TicketStatusValues,
} from '@profile-stream/contracts';
import { compactDoc } from '../doc.ts';
import type { DocObject, DocValue, ProfileDoc } from '../doc.ts';
import type { FoldInput } from '../fold.ts';
import { normaliseIdentifiers } from '../normalise.ts';
import { RULES } from '../rules.ts';
import type { Rule } from '../rules.ts';

/** Keys that stress ordering and escaping: case, accents, a private-use BMP char vs an astral one, '__proto__'. */
export const KEY_POOL = ['a', 'b', 'B', 'é', 'a b', '', '\uE000', '😀', '__proto__', 'x/y', '1', '10'] as const;
const key = fc.constantFrom(...KEY_POOL);
// Small values (ties), epoch ms (13 digits) and 16-digit values (beyond cjson's %.14g).
const num = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constant(1_700_000_000_000), fc.integer({ min: 1e15, max: 2e15 }));
// Sums too, but bounded so that the sum of the largest joins the tests make (8 documents) stays an exact integer
// (< 2^53): beyond it, float addition is not associative and two exact folds could differ in the last digit.
const sumNum = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constant(1_700_000_000_000), fc.integer({ min: 1e15, max: 1.1e15 }));
const time = fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constant(1_700_000_000_000), fc.constant(2_000_000_000_000_000));
const scalar = fc.oneof(key, num, fc.boolean());
const cellValue = fc.oneof(scalar, fc.dictionary(key, scalar, { maxKeys: 3, noNullPrototype: true }));
const cellArb = fc.record({ v: cellValue, t: time, id: fc.constantFrom('e1', 'e2', 'E1', 'é1') }, { noNullPrototype: true });

function ruleArb(rule: Rule): fc.Arbitrary<DocValue> {
  switch (rule.kind) {
    case 'min':
    case 'max':
      return num;
    case 'sum':
      return sumNum;
    case 'lww':
    case 'fww':
      return cellArb;
    case 'set':
      return fc.dictionary(key, time, { maxKeys: rule.limit + 3, noNullPrototype: true });
    case 'map':
      return fc.dictionary(key, ruleArb(rule.of), { maxKeys: 4, noNullPrototype: true });
    case 'record': {
      const fields: { [f: string]: fc.Arbitrary<DocValue> } = {};
      for (const [f, r] of Object.entries(rule.fields)) fields[f] = ruleArb(r);
      return fc.record(fields, { requiredKeys: [], noNullPrototype: true }) as fc.Arbitrary<DocObject>;
    }
  }
}

/** A random canonical document (every path of RULES may appear). */
export const docArb: fc.Arbitrary<ProfileDoc> = ruleArb(RULES).map((d) => compactDoc(d as DocObject));

// ---- events ----

const T0 = 1_700_000_000_000;
const at = fc.integer({ min: 0, max: 20 }).map((i) => T0 + i * 1000); // few distinct times: ties on occurred_at
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 3 });
const ids = fc.record({
  anonymous_id: maybe(fc.constantFrom('anon-1', 'anon-2', ' anon-1 ')),
  user_id: maybe(fc.constantFrom('u_1', 'u_2')),
  email: maybe(fc.constantFrom('alice@example.com', ' Alice@Example.COM', 'bob@example.org', 'n/a')),
  phone: maybe(fc.constantFrom('+44 7700 900123', '07700 900123', '+1 202 555 0143', 'unknown')),
});
const word = fc.constantFrom('shoes', 'books', 'é', '😀', 'toys');
const sku = fc.constantFrom('SKU-1', 'SKU-2', 'SKU-3');

const click = fc.record({
  occurred_at: at,
  type: fc.constantFrom(...ClickEventTypeValues),
  page: maybe(
    fc.record({
      url: fc.constantFrom('https://shop.test/', 'https://shop.test/p/1'),
      referrer: maybe(fc.constantFrom('https://google.com/')),
      title: fc.constant(null),
    }),
  ),
  utm: maybe(fc.record({ source: maybe(fc.constantFrom('google', 'news')), medium: maybe(fc.constantFrom('cpc', 'email')), campaign: maybe(word) })),
  device: maybe(
    fc.record({ type: fc.constantFrom(...DeviceTypeValues), os: maybe(fc.constantFrom('iOS', 'Linux')), browser: maybe(fc.constantFrom('Safari', 'Firefox')) }),
  ),
  country: maybe(fc.constantFrom('gb', 'DE', ' fr ')),
  locale: maybe(fc.constantFrom('en-GB', 'de-DE')),
  product: maybe(fc.record({ sku, category: maybe(word), price_minor: maybe(fc.nat({ max: 10_000 })), currency: maybe(fc.constantFrom('GBP', 'EUR')) })),
  search_query: maybe(word),
  consent: maybe(fc.record({ purpose: fc.constantFrom(...ConsentPurposeValues), granted: fc.boolean() })),
});

const purchase = fc.record({
  occurred_at: at,
  order_id: fc.constantFrom('o1', 'o2', 'o3', 'o4'),
  status: fc.constantFrom(...PurchaseStatusValues),
  channel: fc.constantFrom(...PurchaseChannelValues),
  currency: fc.constantFrom('GBP', 'EUR', 'USD'),
  total_minor: fc.oneof(fc.nat({ max: 100_000 }), fc.constant(123_456_789_012_345)),
  items: fc.array(fc.record({ sku, category: maybe(word), quantity: fc.integer({ min: 1, max: 3 }), unit_price_minor: fc.nat({ max: 5000 }) }), {
    maxLength: 3,
  }),
});

const ticket = fc.record({
  occurred_at: at,
  ticket_id: fc.constantFrom('t1', 't2', 't3'),
  status: fc.constantFrom(...TicketStatusValues),
  channel: fc.constantFrom(...TicketChannelValues),
  priority: fc.constantFrom(...TicketPriorityValues),
  category: maybe(word),
  subject: fc.constant(null),
  satisfaction: maybe(fc.integer({ min: 1, max: 5 })),
});

const DAY = 86_400_000;
/** Valid loyalty events: points only on points_* types, a tier only on enrolled / tier_changed, expiries only on earns. */
const loyalty = fc
  .record({
    occurred_at: at,
    member_id: fc.constantFrom('M-1', 'M-2', ' M-1 '),
    type: fc.constantFrom(...LoyaltyEventTypeValues),
    points: fc.oneof(fc.integer({ min: 1, max: 500 }), fc.constant(123_456_789_012_345)),
    tier: fc.constantFrom('bronze', 'silver', 'gold'),
    reason: maybe(word),
    order_id: maybe(fc.constantFrom('o1', 'o2')),
    // few distinct expiries (lots collide), some before the events' times
    expires_at: maybe(fc.integer({ min: -2, max: 4 }).map((d) => T0 + d * 30 * DAY)),
  })
  .map((e) => ({
    ...e,
    points: e.type.startsWith('points_') ? e.points : null,
    tier: e.type === 'enrolled' || e.type === 'tier_changed' ? e.tier : null,
    expires_at: e.type === 'points_earned' ? e.expires_at : null,
  }));

const NORMALISE = { defaultRegion: 'GB', blocklist: new Set<string>() };

/** One event without its event_id (assigned by eventsArb so that ids are unique). */
const eventBody = fc.oneof(
  fc.tuple(ids, click).map(([i, e]) => ({ topic: 'clickstream' as const, event: { ...i, ...e } })),
  fc.tuple(ids, purchase).map(([i, e]) => ({ topic: 'purchases' as const, event: { ...i, ...e } })),
  fc.tuple(ids, ticket).map(([i, e]) => ({ topic: 'support-tickets' as const, event: { ...i, ...e } })),
  fc.tuple(ids, loyalty).map(([i, e]) => ({ topic: 'loyalty' as const, event: { ...i, ...e } })),
);

/** Distinct events (unique event ids, with normalised identifiers). */
export const eventsArb = (maxLength = 30): fc.Arbitrary<FoldInput[]> =>
  fc.array(eventBody, { maxLength }).map((bodies) =>
    bodies.map((b, i) => {
      // ids like ev-07 / ev-7 / Ev-7 so that the (occurred_at, event_id) tie-break matters
      const event = { ...b.event, event_id: [`ev-${i}`, `Ev-${i}`, `ev-0${i}`][i % 3]! };
      return { topic: b.topic, event, ids: normaliseIdentifiers(event, NORMALISE) } as FoldInput;
    }),
  );

/** The events, then the same events shuffled with some of them repeated (replays, redeliveries). */
export const streamArb = (maxLength = 30): fc.Arbitrary<[FoldInput[], FoldInput[]]> =>
  eventsArb(maxLength).chain((events) =>
    fc.tuple(
      fc.constant(events),
      fc
        .tuple(fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }), fc.array(fc.nat(), { maxLength: 8 }))
        .map(([shuffled, dups]) => {
          const withDups = [...shuffled];
          for (const d of dups) if (events.length > 0) withDups.splice(d % (withDups.length + 1), 0, structuredClone(events[d % events.length]!));
          return withDups;
        }),
    ),
  );
