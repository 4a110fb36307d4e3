// What one event contributes to a profile (its fragment), and the reference fold (the oracle) of a list of events.
// A profile is always join(fragments of the distinct events applied to it), whatever their order.
import type { ClickEvent, Purchase, SupportTicket } from '@profile-stream/contracts';
import { cell, cmpStr, put } from './doc.ts';
import type { Cell, DeviceValue, FirstTouch, OrderDoc, ProfileDoc, RankSet, TicketDoc } from './doc.ts';
import { accountFragment } from './account.ts';
import { engagementFragment } from './engagement.ts';
import { join } from './join.ts';
import { loyaltyFragment } from './loyalty.ts';
import { hasIdentifier } from './normalise.ts';
import type { NormalisedIds } from './normalise.ts';
import type { EventOf, InputEvent, InputTopic } from './validate.ts';

/** An input event with its normalised identifiers: what the fold consumes. */
export type FoldInput = InputEvent & { readonly ids: NormalisedIds };

/** A trimmed, non-empty string, or undefined. */
function text(v: string | null | undefined): string | undefined {
  const s = v?.trim();
  return s ? s : undefined;
}

type Activity = NonNullable<ProfileDoc['activity']>;

// Fragments are built field by field, with no undefined fields and no empty objects (they are canonical documents),
// and in the document's field order (RULES), which is the order join() gives: hw, identity, then the part's fields,
// with `activity` (the fields every event sets, then the part's own) in its place, then freshness. Each part writes
// `out`'s fields in that order.

function identityOf(ids: NormalisedIds, t: number): ProfileDoc['identity'] {
  const identity: ProfileDoc['identity'] = {};
  if (ids.user_id !== undefined) identity.user_ids = { [ids.user_id]: t };
  if (ids.email !== undefined) identity.emails = { [ids.email]: t };
  if (ids.phone !== undefined) identity.phones = { [ids.phone]: t };
  if (ids.anonymous_id !== undefined) identity.anonymous_ids = { [ids.anonymous_id]: t };
  return identity;
}

function firstTouch(e: ClickEvent): FirstTouch {
  const source = text(e.utm?.source);
  const medium = text(e.utm?.medium);
  const campaign = text(e.utm?.campaign);
  const referrer = text(e.page?.referrer);
  const landing = text(e.page?.url);
  const ft: FirstTouch = { channel: medium ?? (source !== undefined ? 'campaign' : referrer !== undefined ? 'referral' : 'direct') };
  if (source !== undefined) ft.source = source;
  if (medium !== undefined) ft.medium = medium;
  if (campaign !== undefined) ft.campaign = campaign;
  if (referrer !== undefined) ft.referrer = referrer;
  if (landing !== undefined) ft.landing_page = landing;
  return ft;
}

function clickPart(e: ClickEvent, out: ProfileDoc, activity: Activity): void {
  const t = e.occurred_at;
  const c = <V extends string | number | boolean | { [k: string]: string | number | boolean }>(v: V) => cell(v, t, e.event_id);
  out.acquisition = { first_touch: c(firstTouch(e)) };
  const country = text(e.country)?.toUpperCase();
  const locale = text(e.locale);
  if (country !== undefined || locale !== undefined) {
    const demographic: ProfileDoc['demographic'] = {};
    if (country !== undefined) demographic.country = c(country);
    if (locale !== undefined) demographic.locale = c(locale);
    out.demographic = demographic;
  }
  if (e.device !== null) {
    const device: DeviceValue = { type: e.device.type };
    const os = text(e.device.os);
    const browser = text(e.device.browser);
    if (os !== undefined) device.os = os;
    if (browser !== undefined) device.browser = browser;
    out.technology = { devices: { [`${device.type}/${os ?? ''}/${browser ?? ''}`]: t }, device_types: { [device.type]: t }, last_device: c(device) };
  }
  const category = text(e.product?.category);
  if (e.type === 'page_view') activity.page_views = 1;
  if (e.type === 'product_view') {
    activity.product_views = 1;
    if (category !== undefined) activity.product_views_by_category = { [category]: 1 };
    activity.recent_product_views = { [e.event_id]: t };
  }
  if (e.type === 'search') {
    activity.searches = 1;
    const query = text(e.search_query);
    if (query !== undefined) activity.last_search = c(query);
  }
  if (category !== undefined) activity.categories = { [category]: t };
  const sku = e.product?.sku;
  const carted = e.type === 'add_to_cart' ? true : e.type === 'remove_from_cart' ? false : undefined;
  if (e.type === 'add_to_cart' || e.type === 'checkout_started' || (carted !== undefined && sku !== undefined)) {
    const cart: NonNullable<Activity['cart']> = {};
    if (e.type === 'add_to_cart') cart.last_add_to_cart_at = t;
    if (e.type === 'checkout_started') cart.last_checkout_started_at = t;
    if (carted !== undefined && sku !== undefined) cart.items = { [sku]: c(carted) };
    activity.cart = cart;
  }
  out.activity = activity;
  if (e.type === 'consent_updated' && e.consent !== null) {
    out.consent = { [e.consent.purpose]: c({ granted: e.consent.granted, source: text(e.page?.url) ?? 'clickstream' }) };
  }
}

function purchasePart(e: Purchase, out: ProfileDoc, activity: Activity): void {
  const t = e.occurred_at;
  const c = (v: string) => cell(v, t, e.event_id);
  const completed = e.status === 'completed';
  if (completed) out.acquisition = { first_order_channel: c(e.channel) };
  const categories: RankSet = {};
  let categorised = false;
  for (const item of e.items) {
    const category = text(item.category);
    if (category === undefined) continue;
    put(categories, category, t);
    categorised = true;
  }
  if (categorised) activity.categories = categories;
  if (completed && e.items.length > 0) {
    // a completed order takes its items out of the cart (one cell for all of them: documents are never mutated)
    const gone = cell(false, t, e.event_id);
    const items: { [sku: string]: Cell<boolean> } = {};
    for (const item of e.items) put(items, item.sku, gone);
    activity.cart = { items };
  }
  out.activity = activity;
  const order: OrderDoc = { currency: c(e.currency), channel: c(e.channel), last_event_at: t };
  if (completed) {
    order.completed_at = t;
    order.completed_minor = e.total_minor;
  } else if (e.status === 'refunded') order.refunded_minor = e.total_minor;
  else {
    order.cancelled = 1;
    order.cancelled_minor = e.total_minor;
  }
  const transactions: ProfileDoc['transactions'] = {
    orders: { [e.order_id]: order },
    revenue_minor: { [e.currency]: completed ? e.total_minor : 0 - e.total_minor }, // 0 - x: never -0 (JSON and Lua have no -0)
  };
  if (e.status === 'refunded') transactions.refunds_count = 1;
  if (e.status === 'cancelled') transactions.cancellations_count = 1;
  transactions.channels = { [e.channel]: t };
  out.transactions = transactions;
}

function ticketPart(e: SupportTicket, out: ProfileDoc, activity: Activity): void {
  const t = e.occurred_at;
  const c = <V extends string | number>(v: V) => cell(v, t, e.event_id);
  const category = text(e.category);
  const ticket: TicketDoc = { first_event_at: t, last_event_at: t, status: c(e.status), priority: c(e.priority), channel: c(e.channel) };
  if (e.status === 'opened') ticket.opened_at = t;
  if (category !== undefined) ticket.category = c(category);
  out.activity = activity;
  const support: ProfileDoc['support'] = { tickets: { [e.ticket_id]: ticket }, last_contact_channel: c(e.channel) };
  if (e.satisfaction !== null) {
    support.csat_sum = e.satisfaction;
    support.csat_count = 1;
    support.last_csat = c(e.satisfaction);
  }
  out.support = support;
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
export function eventFragment<T extends InputTopic>(topic: T, event: EventOf<T>, ids: NormalisedIds): ProfileDoc {
  const input = { topic, event } as InputEvent;
  const t = event.occurred_at;
  const out: ProfileDoc = { hw: t };
  if (hasIdentifier(ids)) out.identity = identityOf(ids, t);
  const activity: Activity = { first_seen_at: t, last_seen_at: t, events: { [eventKind(input)]: 1 } };
  if (input.topic === 'clickstream') clickPart(input.event, out, activity);
  else if (input.topic === 'purchases') purchasePart(input.event, out, activity);
  else if (input.topic === 'support-tickets') ticketPart(input.event, out, activity);
  else {
    out.activity = activity;
    out.loyalty = loyaltyFragment(input.event);
  }
  const engagement = engagementFragment(input);
  if (engagement !== undefined) out.engagement = engagement;
  const account = 'account' in input.event ? accountFragment(input.event.account, t, event.event_id) : undefined;
  if (account !== undefined) out.account = account;
  if (ids.email !== undefined || ids.phone !== undefined) {
    const freshness: ProfileDoc['freshness'] = {};
    if (ids.email !== undefined) freshness.email = { [ids.email]: t };
    if (ids.phone !== undefined) freshness.phone = { [ids.phone]: t };
    out.freshness = freshness;
  }
  return out;
}

/** Events sorted by (occurred_at, event_id), one per event_id. */
export function sortUnique<E extends { readonly event: { readonly occurred_at: number; readonly event_id: string } }>(events: readonly E[]): E[] {
  const byId = new Map<string, E>();
  for (const e of events) if (!byId.has(e.event.event_id)) byId.set(e.event.event_id, e);
  return [...byId.values()].sort((a, b) => a.event.occurred_at - b.event.occurred_at || cmpStr(a.event.event_id, b.event.event_id));
}

/** The oracle: the profile of a set of events, folded in (occurred_at, event_id) order, each event_id once. */
export function foldEvents(events: readonly FoldInput[]): ProfileDoc {
  let doc: ProfileDoc = {};
  for (const e of sortUnique(events)) doc = join(doc, eventFragment(e.topic, e.event, e.ids));
  return doc;
}
