// eventFragment against the original it replaced, which built fragments from spreads, a generic prune of undefined
// fields and empty objects, and a join of the common part with the topic's part: the same fragment, field order
// included, for every event.
import assert from 'node:assert/strict';
import { test } from '@fast-check/vitest';
import { describe } from 'vitest';
import type { ClickEvent, Purchase, SupportTicket } from '@profile-stream/contracts';
import { cell, put } from './doc.ts';
import type { DeviceValue, FirstTouch, OrderDoc, ProfileDoc, RankSet, TicketDoc } from './doc.ts';
import { eventFragment } from './fold.ts';
import type { FoldInput } from './fold.ts';
import { accountFragment } from './account.ts';
import { engagementFragment } from './engagement.ts';
import { join } from './join.ts';
import { loyaltyFragment } from './loyalty.ts';
import type { NormalisedIds } from './normalise.ts';
import { eventsArb } from './testing/arbitraries.ts';
import type { EventOf, InputEvent, InputTopic } from './validate.ts';

/** The oracle: eventFragment as it was (a copy of its code before it built fragments field by field). */
const referenceFragment = (() => {
  /** A trimmed, non-empty string, or undefined. */
  function text(v: string | null | undefined): string | undefined {
    const s = v?.trim();
    return s ? s : undefined;
  }

  function only<K extends string, V>(key: K | undefined, v: V): { [k: string]: V } | undefined {
    return key === undefined ? undefined : { [key]: v };
  }

  function identityPart(ids: NormalisedIds, t: number): ProfileDoc {
    const s = (v: string | undefined): RankSet | undefined => only(v, t);
    const identity = { user_ids: s(ids.user_id), emails: s(ids.email), phones: s(ids.phone), anonymous_ids: s(ids.anonymous_id) };
    const freshness = { email: s(ids.email), phone: s(ids.phone) };
    return prune({ identity, freshness }) as ProfileDoc;
  }

  /**
   * Drops undefined fields and the objects they leave empty (fragments are canonical documents). Cells ({v, t, id})
   * are kept whole; a fragment's maps and sets have one key each, so none can be mistaken for a cell.
   */
  function prune(o: { [k: string]: unknown }): { [k: string]: unknown } | undefined {
    const out: { [k: string]: unknown } = {};
    for (const [k, v] of Object.entries(o)) {
      const p = typeof v === 'object' && v !== null && !('t' in v && 'id' in v && 'v' in v) ? prune(v as { [k: string]: unknown }) : v;
      if (p !== undefined) put(out, k, p);
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }

  function firstTouch(e: ClickEvent): FirstTouch {
    const source = text(e.utm?.source);
    const medium = text(e.utm?.medium);
    const referrer = text(e.page?.referrer);
    const channel = medium ?? (source !== undefined ? 'campaign' : referrer !== undefined ? 'referral' : 'direct');
    return prune({ channel, source, medium, campaign: text(e.utm?.campaign), referrer, landing_page: text(e.page?.url) }) as FirstTouch;
  }

  function clickPart(e: ClickEvent): ProfileDoc {
    const t = e.occurred_at;
    const c = <V extends string | number | boolean | { [k: string]: string | number | boolean }>(v: V) => cell(v, t, e.event_id);
    const category = text(e.product?.category);
    const sku = e.product?.sku;
    const device = e.device === null ? undefined : (prune({ type: e.device.type, os: text(e.device.os), browser: text(e.device.browser) }) as DeviceValue);
    const country = text(e.country)?.toUpperCase();
    const locale = text(e.locale);
    const query = e.type === 'search' ? text(e.search_query) : undefined;
    const carted = e.type === 'add_to_cart' ? true : e.type === 'remove_from_cart' ? false : undefined;
    return {
      acquisition: { first_touch: c(firstTouch(e)) },
      ...(country || locale ? { demographic: prune({ country: country && c(country), locale: locale && c(locale) }) as ProfileDoc['demographic'] } : {}),
      ...(device
        ? {
            technology: {
              devices: { [`${device.type}/${device.os ?? ''}/${device.browser ?? ''}`]: t },
              device_types: { [device.type]: t },
              last_device: c(device),
            },
          }
        : {}),
      activity: prune({
        page_views: e.type === 'page_view' ? 1 : undefined,
        product_views: e.type === 'product_view' ? 1 : undefined,
        product_views_by_category: e.type === 'product_view' ? only(category, 1) : undefined,
        recent_product_views: e.type === 'product_view' ? { [e.event_id]: t } : undefined,
        searches: e.type === 'search' ? 1 : undefined,
        last_search: query && c(query),
        categories: only(category, t),
        cart: {
          last_add_to_cart_at: e.type === 'add_to_cart' ? t : undefined,
          last_checkout_started_at: e.type === 'checkout_started' ? t : undefined,
          items: carted !== undefined && sku !== undefined ? { [sku]: c(carted) } : undefined,
        },
      }) as ProfileDoc['activity'],
      ...(e.type === 'consent_updated' && e.consent !== null
        ? { consent: { [e.consent.purpose]: c({ granted: e.consent.granted, source: text(e.page?.url) ?? 'clickstream' }) } }
        : {}),
    };
  }

  function purchasePart(e: Purchase): ProfileDoc {
    const t = e.occurred_at;
    const c = (v: string) => cell(v, t, e.event_id);
    const completed = e.status === 'completed';
    const order: OrderDoc = { currency: c(e.currency), channel: c(e.channel), last_event_at: t };
    if (completed) Object.assign(order, { completed_at: t, completed_minor: e.total_minor });
    else if (e.status === 'refunded') order.refunded_minor = e.total_minor;
    else Object.assign(order, { cancelled: 1, cancelled_minor: e.total_minor });
    const categories: RankSet = {};
    for (const item of e.items) {
      const category = text(item.category);
      if (category !== undefined) put(categories, category, t);
    }
    const items = completed && e.items.length > 0 ? Object.fromEntries(e.items.map((i) => [i.sku, cell(false, t, e.event_id)])) : undefined;
    return {
      ...(completed ? { acquisition: { first_order_channel: c(e.channel) } } : {}),
      activity: prune({ categories, cart: { items } }) as ProfileDoc['activity'],
      transactions: prune({
        orders: { [e.order_id]: order },
        revenue_minor: { [e.currency]: completed ? e.total_minor : 0 - e.total_minor }, // 0 - x: never -0 (JSON and Lua have no -0)
        refunds_count: e.status === 'refunded' ? 1 : undefined,
        cancellations_count: e.status === 'cancelled' ? 1 : undefined,
        channels: { [e.channel]: t },
      }) as ProfileDoc['transactions'],
    };
  }

  function ticketPart(e: SupportTicket): ProfileDoc {
    const t = e.occurred_at;
    const c = <V extends string | number>(v: V) => cell(v, t, e.event_id);
    const category = text(e.category);
    const ticket: TicketDoc = {
      first_event_at: t,
      last_event_at: t,
      status: c(e.status),
      priority: c(e.priority),
      channel: c(e.channel),
      ...(e.status === 'opened' ? { opened_at: t } : {}),
      ...(category !== undefined ? { category: c(category) } : {}),
    };
    return {
      support: {
        tickets: { [e.ticket_id]: ticket },
        last_contact_channel: c(e.channel),
        ...(e.satisfaction !== null ? { csat_sum: e.satisfaction, csat_count: 1, last_csat: c(e.satisfaction) } : {}),
      },
    };
  }

  function eventKind(input: InputEvent): string {
    switch (input.topic) {
      case 'clickstream':
        return input.event.type;
      case 'purchases':
        return `purchase.${input.event.status}`;
      case 'support-tickets':
        return `ticket.${input.event.status}`;
      case 'loyalty':
        return `loyalty.${input.event.type}`;
    }
  }

  /** The document one event contributes: pure and deterministic (same event → same fragment). */
  function eventFragment<T extends InputTopic>(topic: T, event: EventOf<T>, ids: NormalisedIds): ProfileDoc {
    const input = { topic, event } as InputEvent;
    const t = event.occurred_at;
    const part =
      input.topic === 'clickstream'
        ? clickPart(input.event)
        : input.topic === 'purchases'
          ? purchasePart(input.event)
          : input.topic === 'support-tickets'
            ? ticketPart(input.event)
            : { loyalty: loyaltyFragment(input.event) }; // new with the loyalty stream: only its place in the fragment is checked here
    // New with predictions' engagement counts and B2B accounts: only their place in the fragment is checked here.
    const engagement = engagementFragment(input);
    const account = 'account' in input.event ? accountFragment(input.event.account, t, event.event_id) : undefined;
    const extra: ProfileDoc = { ...(engagement ? { engagement } : {}), ...(account ? { account } : {}) };
    const common: ProfileDoc = {
      hw: t,
      ...identityPart(ids, t),
      activity: { first_seen_at: t, last_seen_at: t, events: { [eventKind(input)]: 1 } },
    };
    return join(join(common, part), extra);
  }
  return eventFragment;
})();

/** The event with its data-keyed strings (skus, categories, order, ticket and event ids, …) set to "__proto__". */
function protoKeyed(e: FoldInput): FoldInput {
  const p = '__proto__';
  const ids = { ...e.ids, user_id: p };
  switch (e.topic) {
    case 'clickstream': {
      const product = e.event.product && { ...e.event.product, sku: p, category: p };
      const consent = e.event.consent && { ...e.event.consent, purpose: p as never };
      return { topic: e.topic, event: { ...e.event, event_id: p, product, consent, search_query: p, locale: p }, ids };
    }
    case 'purchases':
      return { topic: e.topic, event: { ...e.event, order_id: p, currency: p, items: e.event.items.map((i) => ({ ...i, sku: p, category: p })) }, ids };
    case 'support-tickets':
      return { topic: e.topic, event: { ...e.event, ticket_id: p, category: p }, ids };
    case 'loyalty':
      return { topic: e.topic, event: { ...e.event, event_id: p, member_id: p, tier: e.event.tier && p }, ids };
  }
}

/** Same value and same field order (so the same JSON bytes) as the oracle's fragment. */
function assertSameFragment(e: FoldInput): void {
  const got = eventFragment(e.topic, e.event, e.ids);
  const want = referenceFragment(e.topic, e.event, e.ids);
  assert.deepEqual(got, want);
  assert.equal(JSON.stringify(got), JSON.stringify(want));
}

describe('eventFragment against the original (fast-check)', () => {
  test.prop([eventsArb(30)], { numRuns: 500 })('the same fragment for every event', (events) => {
    for (const e of events) assertSameFragment(e);
  });

  test.prop([eventsArb(10)], { numRuns: 200 })('the same fragment when data keys are "__proto__"', (events) => {
    for (const e of events) assertSameFragment(protoKeyed(e));
  });
});
