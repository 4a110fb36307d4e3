// profileView against the original it replaced, which sorted every object's keys in a pass over the whole view:
// the new one writes its objects in key order, and must give the same bytes for every document.
import assert from 'node:assert/strict';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { cmpStr, put } from './doc.ts';
import type { Cell, OrderDoc, ProfileDoc, RankSet } from './doc.ts';
import { eventFragment, foldEvents, sortUnique } from './fold.ts';
import { joinAll } from './join.ts';
import { loyaltyActivityAt, nextExpiry, pointsBalance } from './loyalty.ts';
import { docArb, eventsArb, KEY_POOL } from './testing/arbitraries.ts';
import { ISO_MEMO_SIZE, profileView, profileViewJson } from './view.ts';
import type { JsonValue, PurchasePoint, ViewOptions } from './view.ts';
/** The oracle: profileView as it was (a copy of its code before it wrote its keys in order). */
const referenceView = (() => {
  const OPEN_TICKET_STATUSES: ReadonlySet<string> = new Set(['opened', 'updated', 'reopened']);

  const iso = (t: number | undefined): string | null => (t === undefined ? null : new Date(t).toISOString());

  /** Values of a set, most recently seen first (ties by value). */
  function ranked(s: RankSet | undefined): string[] {
    return Object.entries(s ?? {})
      .sort((a, b) => b[1] - a[1] || cmpStr(a[0], b[0]))
      .map(([v]) => v);
  }

  const sorted = (s: RankSet | undefined): string[] => Object.keys(s ?? {}).sort(cmpStr);

  function counted(o: OrderDoc): o is OrderDoc & { completed_at: number } {
    return o.completed_at !== undefined && (o.cancelled ?? 0) === 0;
  }

  /** Completed and not cancelled orders, by (time, order id): input of windowed purchase counts in segments. */
  function purchaseTimeline(doc: ProfileDoc): PurchasePoint[] {
    return Object.entries(doc.transactions?.orders ?? {})
      .filter((e): e is [string, OrderDoc & { completed_at: number }] => counted(e[1]))
      .map(([order_id, o]) => ({
        order_id,
        at: o.completed_at,
        total_minor: o.completed_minor ?? 0,
        refunded_minor: o.refunded_minor ?? 0,
        currency: o.currency?.v ?? '',
      }))
      .sort((a, b) => a.at - b.at || cmpStr(a.order_id, b.order_id));
  }

  const cellValue = <V>(c: Cell<V & (string | number | boolean)> | undefined): V | null => (c === undefined ? null : c.v);

  function transactionsView(doc: ProfileDoc): JsonValue {
    const tx = doc.transactions ?? {};
    const timeline = purchaseTimeline(doc);
    const revenue = tx.revenue_minor ?? {};
    const perCurrency = new Map<string, number>();
    for (const p of timeline) perCurrency.set(p.currency, (perCurrency.get(p.currency) ?? 0) + 1);
    const aov: { [currency: string]: number } = {};
    for (const [currency, n] of perCurrency) aov[currency] = Math.round((revenue[currency] ?? 0) / n);
    return {
      orders_count: timeline.length,
      revenue_minor: { ...revenue },
      first_purchase_at: iso(timeline[0]?.at),
      last_purchase_at: iso(timeline.at(-1)?.at),
      average_order_value_minor: aov,
      refunds_count: tx.refunds_count ?? 0,
      cancellations_count: tx.cancellations_count ?? 0,
      channels: sorted(tx.channels),
      purchases: timeline.map((p) => ({ ...p, at: iso(p.at) })),
    };
  }

  function supportView(doc: ProfileDoc): JsonValue {
    const s = doc.support ?? {};
    const tickets = Object.values(s.tickets ?? {});
    const open = tickets.filter((t) => t.status !== undefined && OPEN_TICKET_STATUSES.has(t.status.v));
    return {
      open_tickets: open.length,
      open_urgent_tickets: open.filter((t) => t.priority?.v === 'urgent').length,
      tickets_count: tickets.length,
      last_csat: cellValue(s.last_csat),
      average_csat: s.csat_count ? Math.round((100 * (s.csat_sum ?? 0)) / s.csat_count) / 100 : null,
      last_contact_channel: cellValue(s.last_contact_channel),
    };
  }

  // new with the loyalty stream (keys unsorted here): the derived values are checked against their own oracle in loyalty.test.ts
  function loyaltyView(doc: ProfileDoc): JsonValue {
    const l = doc.loyalty ?? {};
    const next = nextExpiry(l);
    return {
      member_id: cellValue(l.member_id),
      status: cellValue(l.status),
      tier: cellValue(l.tier),
      tier_since: iso(l.tier?.t),
      enrolled_at: iso(l.enrolled_at),
      points_balance: pointsBalance(l),
      overdrawn: pointsBalance(l) < 0,
      lifetime_points: l.earned ?? 0,
      points_redeemed: l.redeemed ?? 0,
      points_expired: l.expired ?? 0,
      last_earned_at: iso(l.last_earned_at),
      last_redeemed_at: iso(l.last_redeemed_at),
      last_activity_at: iso(loyaltyActivityAt(l)),
      next_expiry_at: iso(next?.at),
      next_expiry_points: next?.points ?? 0,
    };
  }

  // new with B2B accounts (issue 15): the current account, its name and domain, and since when the contact names it
  function accountOf(doc: ProfileDoc): JsonValue {
    const a = doc.account;
    if (a?.id === undefined) return null;
    const id = a.id.v;
    const at = <V>(o: { [k: string]: V } | undefined): V | undefined => (o !== undefined && Object.hasOwn(o, id) ? o[id] : undefined);
    return { account_id: id, name: at(a.names)?.v ?? null, domain: at(a.domains)?.v ?? null, since: iso(at(a.seen) ?? a.id.t) };
  }

  function activityView(doc: ProfileDoc): JsonValue {
    const a = doc.activity ?? {};
    const items = a.cart?.items ?? {};
    return {
      first_seen_at: iso(a.first_seen_at),
      last_seen_at: iso(a.last_seen_at),
      events: { ...(a.events ?? {}) },
      page_views: a.page_views ?? 0,
      product_views: a.product_views ?? 0,
      product_views_by_category: { ...(a.product_views_by_category ?? {}) },
      /** Times of the latest product views (at most SET_LIMITS.recent_product_views), oldest first. */
      recent_product_view_times: Object.values(a.recent_product_views ?? {})
        .sort((x, y) => x - y)
        .map((t) => iso(t)),
      searches: a.searches ?? 0,
      last_search: cellValue(a.last_search),
      categories: ranked(a.categories),
      cart: {
        last_add_to_cart_at: iso(a.cart?.last_add_to_cart_at),
        last_checkout_started_at: iso(a.cart?.last_checkout_started_at),
        items: Object.keys(items)
          .filter((sku) => items[sku]!.v)
          .sort(cmpStr),
      },
    };
  }

  function sortKeys(v: JsonValue): JsonValue {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(sortKeys);
    const keys = Object.keys(v).sort(cmpStr);
    const out: { [key: string]: JsonValue } = {};
    for (let i = 0; i < keys.length; i++) put(out, keys[i]!, sortKeys(v[keys[i]!]!));
    return out;
  }

  function predictionsOf(c: Cell | undefined): JsonValue {
    if (c === undefined) return null;
    const v = (typeof c.v === 'object' ? c.v : {}) as Record<string, unknown>;
    const n = (k: string) => (typeof v[k] === 'number' ? (v[k] as number) : null);
    return {
      model_version: n('model_version'),
      scored_at: iso(c.t),
      p_alive: n('p_alive'),
      expected_purchases: { d30: n('purchases_30d'), d90: n('purchases_90d'), d365: n('purchases_365d') },
      currency: typeof v.currency === 'string' ? v.currency : null,
      expected_order_minor: n('order_value_minor'),
      clv_minor: n('clv_minor'),
      next_purchase_at: typeof v.next_purchase_at === 'number' ? iso(v.next_purchase_at) : null,
      best_channel: typeof v.best_channel === 'string' ? v.best_channel : null,
      best_hour_of_week: n('best_hour_of_week'),
    };
  }

  function profileView(doc: ProfileDoc, options: ViewOptions): JsonValue {
    const id = doc.identity ?? {};
    const ft = doc.acquisition?.first_touch;
    const dev = doc.technology?.last_device;
    const mapTimes = (m: { [k: string]: number } | undefined) => Object.fromEntries(Object.entries(m ?? {}).map(([k, t]) => [k, iso(t)]));
    return sortKeys({
      profile_id: options.profile_id,
      merged_ids: [...options.merged_ids].sort(cmpStr),
      identity: { user_ids: sorted(id.user_ids), emails: sorted(id.emails), phones: sorted(id.phones), anonymous_ids: sorted(id.anonymous_ids) },
      acquisition: {
        first_touch: ft === undefined ? null : { ...ft.v, at: iso(ft.t) },
        first_order_channel: cellValue(doc.acquisition?.first_order_channel),
      },
      demographic: { country: cellValue(doc.demographic?.country), locale: cellValue(doc.demographic?.locale) },
      technology: {
        devices: ranked(doc.technology?.devices),
        device_types: sorted(doc.technology?.device_types),
        last_device: dev === undefined ? null : { type: dev.v.type, os: dev.v.os ?? null, browser: dev.v.browser ?? null, at: iso(dev.t) },
      },
      activity: activityView(doc),
      transactions: transactionsView(doc),
      support: supportView(doc),
      consent: Object.fromEntries(
        Object.entries(doc.consent ?? {}).map(([purpose, c]) => [purpose, { granted: c.v.granted, source: c.v.source, at: iso(c.t) }]),
      ),
      freshness: {
        email: mapTimes(doc.freshness?.email),
        phone: mapTimes(doc.freshness?.phone),
        country: iso(doc.demographic?.country?.t),
        locale: iso(doc.demographic?.locale?.t),
        consent: mapTimes(Object.fromEntries(Object.entries(doc.consent ?? {}).map(([purpose, c]) => [purpose, c.t]))),
        contact_confirmed_at: iso(
          [...Object.values(doc.freshness?.email ?? {}), ...Object.values(doc.freshness?.phone ?? {})].reduce<number | undefined>(
            (a, t) => (a === undefined || t > a ? t : a),
            undefined,
          ),
        ),
      },
      last_event_at: iso(doc.hw),
      predictions: predictionsOf(doc.predictions),
      loyalty: loyaltyView(doc),
      account: accountOf(doc),
    });
  }
  return profileView;
})();

/** The view's JSON, or the error it throws (times beyond Date's range do), so that outcomes compare as values. */
function outcome(view: (doc: ProfileDoc, options: ViewOptions) => JsonValue, doc: ProfileDoc, options: ViewOptions) {
  try {
    const v = view(doc, options);
    return { json: JSON.stringify(v), v };
  } catch (err) {
    return { error: String(err) };
  }
}

const optionsArb = fc.record({
  profile_id: fc.oneof(fc.constantFrom(...KEY_POOL), fc.string()),
  merged_ids: fc.array(fc.oneof(fc.constantFrom(...KEY_POOL), fc.string()), { maxLength: 4 }),
});
const BEYOND_DATE = 2_000_000_000_000_000; // a time docArb draws that Date cannot show: the view throws on it
/** docArb with its out-of-range times brought into range, so that most documents have a view. */
const viewableDocArb = docArb.map((d) => JSON.parse(JSON.stringify(d), (_k, v: unknown) => (v === BEYOND_DATE ? 2_000_000_000_000 : v)) as ProfileDoc);

describe('profileView against the sorting original (fast-check)', () => {
  test.prop([docArb, optionsArb], { numRuns: 500 })('same JSON bytes and the same value (or the same error) for random documents', (doc, options) => {
    assert.deepEqual(outcome(profileView, doc, options), outcome(referenceView, doc, options));
  });

  test.prop([viewableDocArb, optionsArb], { numRuns: 1000 })('same JSON bytes and the same value for random viewable documents', (doc, options) => {
    const got = outcome(profileView, doc, options);
    assert.ok('json' in got, got.error);
    assert.deepEqual(got, outcome(referenceView, doc, options));
  });

  test.prop([eventsArb(40), optionsArb], { numRuns: 300 })('same JSON bytes and the same value for folded event streams', (events, options) => {
    const doc = foldEvents(events);
    const got = outcome(profileView, doc, options);
    assert.ok('json' in got, got.error);
    assert.deepEqual(got, outcome(referenceView, doc, options));
  });

  it('same JSON past the bound of the memo of ISO times, when the oldest times have been evicted', () => {
    const times = Array.from({ length: ISO_MEMO_SIZE + 100 }, (_, i) => [`e${i}@example.com`, 1_700_000_000_000 + i * 1001] as const);
    const doc: ProfileDoc = { freshness: { email: Object.fromEntries(times) }, hw: times[0]![1] };
    const options = { profile_id: 'p', merged_ids: [] };
    for (let round = 0; round < 2; round++) assert.deepEqual(outcome(profileView, doc, options), outcome(referenceView, doc, options));
  });
});

/** profileViewJson's outcome: its string, or the error it throws. */
function jsonOutcome(doc: ProfileDoc, options: ViewOptions) {
  try {
    return { json: profileViewJson(doc, options) };
  } catch (err) {
    return { error: String(err) };
  }
}

describe('profileViewJson: the view serialised section by section (fast-check)', () => {
  const viewJson = (doc: ProfileDoc, options: ViewOptions) => {
    const o = outcome(profileView, doc, options);
    return 'json' in o ? { json: o.json } : o;
  };

  test.prop([docArb, optionsArb], { numRuns: 500 })('JSON.stringify(profileView) to the byte (or the same error) for random documents', (doc, options) => {
    assert.deepEqual(jsonOutcome(doc, options), viewJson(doc, options));
    assert.deepEqual(jsonOutcome(doc, options), viewJson(doc, options), 'again, with the absent sections written before');
  });

  test.prop([eventsArb(40), optionsArb], { numRuns: 300 })('to the byte after every event of a stream folded as a stitcher does', (events, options) => {
    let doc: ProfileDoc = {};
    for (const e of sortUnique(events)) {
      doc = joinAll([doc, eventFragment(e.topic, e.event, e.ids)]);
      const got = jsonOutcome(doc, options);
      assert.ok('json' in got, got.error);
      assert.deepEqual(got, viewJson(doc, options));
    }
  });
});
