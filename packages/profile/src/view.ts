// The stable JSON of a profile (DESIGN §5: CLI `profile --json` and the API): times as ISO-8601 UTC strings,
// absent values as null, every object's keys sorted. Derived values (orders_count, averages, open tickets) live
// here, computed from the document, so the document keeps only joinable facts.
import { contactAccount } from './account.ts';
import { cmpStr, put } from './doc.ts';
import { loyaltyActivityAt, nextExpiry, pointsBalance } from './loyalty.ts';
import { boundedMemo } from './memo.ts';
import { predictionsView } from './predictions.ts';
import type { Cell, CellValue, OrderDoc, ProfileDoc, RankSet } from './doc.ts';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface ViewOptions {
  profile_id: string;
  merged_ids: readonly string[];
}

export interface PurchasePoint {
  order_id: string;
  /** completed_at, epoch ms. */
  at: number;
  total_minor: number;
  refunded_minor: number;
  currency: string;
}

const OPEN_TICKET_STATUSES: ReadonlySet<string> = new Set(['opened', 'updated', 'reopened']);

/** How many times iso()'s memo holds at most: a profile's view shows mostly the same times on each of its events. */
export const ISO_MEMO_SIZE = 20_000;

// Safe to share: the string is a pure function of the time (UTC); a time beyond Date's range throws, every time.
const isoOf = boundedMemo(ISO_MEMO_SIZE, (t: number) => new Date(t).toISOString());

const iso = (t: number | undefined): string | null => (t === undefined ? null : isoOf(t));

/** Values of a set, most recently seen first (ties by value). */
function ranked(s: RankSet | undefined): string[] {
  if (s === undefined) return [];
  return Object.keys(s).sort((a, b) => s[b]! - s[a]! || cmpStr(a, b));
}

const sorted = (s: RankSet | undefined): string[] => Object.keys(s ?? {}).sort(cmpStr);

/** The ranks (times) of a set, ascending, as ISO strings. A typed array sorts numbers without a comparator call. */
function ascendingTimes(s: RankSet | undefined): (string | null)[] {
  if (s === undefined) return [];
  const times = new Float64Array(Object.values(s)).sort();
  const out: (string | null)[] = [];
  for (let i = 0; i < times.length; i++) out.push(iso(times[i]));
  return out;
}

function counted(o: OrderDoc): o is OrderDoc & { completed_at: number } {
  return o.completed_at !== undefined && (o.cancelled ?? 0) === 0;
}

/** Completed and not cancelled orders, by (time, order id): input of windowed purchase counts in segments. */
export function purchaseTimeline(doc: ProfileDoc): PurchasePoint[] {
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

/** Times (epoch ms, ascending) at which tickets were opened: input of windowed ticket counts in segments. */
export function ticketOpenTimes(doc: ProfileDoc): number[] {
  return Object.values(doc.support?.tickets ?? {})
    .flatMap((t) => (t.opened_at === undefined ? [] : [t.opened_at]))
    .sort((a, b) => a - b);
}

/** Identity, for sortedMap over maps whose values are already JSON scalars. */
const same = <V>(v: V): V => v;

/** A data-keyed map as JSON: keys in cmpStr order (what the view promises), values mapped by `f`. */
function sortedMap<V, W>(m: { readonly [key: string]: V } | undefined, f: (v: V) => W): { [key: string]: W } {
  const out: { [key: string]: W } = {};
  if (m === undefined) return out;
  const keys = Object.keys(m).sort(cmpStr);
  for (let i = 0; i < keys.length; i++) put(out, keys[i]!, f(m[keys[i]!]!));
  return out;
}

/** A cell value as JSON: a scalar, or a flat object of scalars whose keys must be sorted too. */
const valueJson = (v: CellValue): JsonValue => (typeof v === 'object' ? sortedMap(v, same) : v);

const cellValue = (c: Cell | undefined): JsonValue => (c === undefined ? null : valueJson(c.v));
const orNull = (v: CellValue | null): JsonValue => (v === null ? null : valueJson(v));

// The view objects below are written with their keys in cmpStr order, so that no sorting pass over the whole tree is
// needed: only data-keyed maps are sorted (sortedMap). view.reference.test.ts checks the bytes against the sorting original.

function transactionsView(doc: ProfileDoc): JsonValue {
  const tx = doc.transactions ?? {};
  const timeline = purchaseTimeline(doc);
  const revenue = tx.revenue_minor ?? {};
  const perCurrency = new Map<string, number>();
  for (const p of timeline) perCurrency.set(p.currency, (perCurrency.get(p.currency) ?? 0) + 1);
  const aov: { [currency: string]: number } = {};
  for (const [currency, n] of perCurrency) aov[currency] = Math.round((revenue[currency] ?? 0) / n);
  return {
    average_order_value_minor: sortedMap(aov, same),
    cancellations_count: tx.cancellations_count ?? 0,
    channels: sorted(tx.channels),
    first_purchase_at: iso(timeline[0]?.at),
    last_purchase_at: iso(timeline.at(-1)?.at),
    orders_count: timeline.length,
    purchases: timeline.map((p) => ({
      at: iso(p.at),
      currency: valueJson(p.currency),
      order_id: p.order_id,
      refunded_minor: p.refunded_minor,
      total_minor: p.total_minor,
    })),
    refunds_count: tx.refunds_count ?? 0,
    revenue_minor: sortedMap(revenue, same),
  };
}

function supportView(doc: ProfileDoc): JsonValue {
  const s = doc.support ?? {};
  const tickets = Object.values(s.tickets ?? {});
  const open = tickets.filter((t) => t.status !== undefined && OPEN_TICKET_STATUSES.has(t.status.v));
  return {
    average_csat: s.csat_count ? Math.round((100 * (s.csat_sum ?? 0)) / s.csat_count) / 100 : null,
    last_contact_channel: cellValue(s.last_contact_channel),
    last_csat: cellValue(s.last_csat),
    open_tickets: open.length,
    open_urgent_tickets: open.filter((t) => t.priority?.v === 'urgent').length,
    tickets_count: tickets.length,
  };
}

function activityView(doc: ProfileDoc): JsonValue {
  const a = doc.activity ?? {};
  const items = a.cart?.items ?? {};
  return {
    cart: {
      items: Object.keys(items)
        .filter((sku) => items[sku]!.v)
        .sort(cmpStr),
      last_add_to_cart_at: iso(a.cart?.last_add_to_cart_at),
      last_checkout_started_at: iso(a.cart?.last_checkout_started_at),
    },
    categories: ranked(a.categories),
    events: sortedMap(a.events, same),
    first_seen_at: iso(a.first_seen_at),
    last_search: cellValue(a.last_search),
    last_seen_at: iso(a.last_seen_at),
    page_views: a.page_views ?? 0,
    product_views: a.product_views ?? 0,
    product_views_by_category: sortedMap(a.product_views_by_category, same),
    /** Times of the latest product views (at most SET_LIMITS.recent_product_views), oldest first. */
    recent_product_view_times: ascendingTimes(a.recent_product_views),
    searches: a.searches ?? 0,
  };
}

/** The newest confirmation of any e-mail or phone (epoch ms), or undefined for a profile without contact data. */
function contactConfirmedAt(doc: ProfileDoc): number | undefined {
  let newest: number | undefined;
  for (const times of [doc.freshness?.email, doc.freshness?.phone]) {
    for (const t of Object.values(times ?? {})) if (newest === undefined || t > newest) newest = t;
  }
  return newest;
}

/**
 * When each contact field was last confirmed by an event (or, for consent, by the API). E-mails and phones are kept per
 * value (freshness.email/phone, max). Country, locale and consent need no second copy: their cells are last-writer-wins
 * by occurred_at first, so the cell kept is the latest statement of the field, whatever value it stated, and its time
 * is the newest confirmation (freshness.test.ts checks this against an oracle over events in any order, with duplicates).
 */
function freshnessView(doc: ProfileDoc): JsonValue {
  const f = doc.freshness;
  return {
    consent: sortedMap(doc.consent, (c) => iso(c.t)),
    contact_confirmed_at: iso(contactConfirmedAt(doc)),
    country: iso(doc.demographic?.country?.t),
    email: sortedMap(f?.email, iso),
    locale: iso(doc.demographic?.locale?.t),
    phone: sortedMap(f?.phone, iso),
  };
}

/** The loyalty programme (loyalty.ts: the balance may be negative, then `overdrawn`; how the next expiry is read). */
function loyaltyView(doc: ProfileDoc): JsonValue {
  const l = doc.loyalty ?? {};
  const balance = pointsBalance(l);
  const next = nextExpiry(l);
  return {
    enrolled_at: iso(l.enrolled_at),
    last_activity_at: iso(loyaltyActivityAt(l)),
    last_earned_at: iso(l.last_earned_at),
    last_redeemed_at: iso(l.last_redeemed_at),
    lifetime_points: l.earned ?? 0,
    member_id: cellValue(l.member_id),
    next_expiry_at: iso(next?.at),
    next_expiry_points: next?.points ?? 0,
    overdrawn: balance < 0,
    points_balance: balance,
    points_expired: l.expired ?? 0,
    points_redeemed: l.redeemed ?? 0,
    status: cellValue(l.status),
    tier: cellValue(l.tier),
    tier_since: iso(l.tier?.t),
  };
}

/**
 * The view's sections, in the view's (cmpStr) key order: each computed from the document (and the options), and, where
 * it follows from one section of the document alone, that section (`from`: absent, its JSON is the same for every document).
 */
type Section = {
  name: string;
  view: (doc: ProfileDoc, options: ViewOptions) => JsonValue;
  /** The one document section this view section follows from (absent: it reads more, or the options). */
  from?: (doc: ProfileDoc) => object | undefined;
};

const SECTIONS: readonly Section[] = [
  {
    name: 'account',
    view: (doc) => {
      const account = contactAccount(doc);
      // the values through valueJson: a document read from Redis is not trusted to hold strings there
      return account && { account_id: valueJson(account.account_id), domain: orNull(account.domain), name: orNull(account.name), since: iso(account.since) };
    },
    from: (doc) => doc.account,
  },
  {
    name: 'acquisition',
    view: (doc) => {
      const ft = doc.acquisition?.first_touch;
      return {
        first_order_channel: cellValue(doc.acquisition?.first_order_channel),
        // spread as before: a first touch's fields are not fixed in the document, so its keys are sorted here
        first_touch: ft === undefined ? null : sortedMap({ ...ft.v, at: iso(ft.t) }, same),
      };
    },
    from: (doc) => doc.acquisition,
  },
  { name: 'activity', view: activityView, from: (doc) => doc.activity },
  { name: 'consent', view: (doc) => sortedMap(doc.consent, (c) => ({ at: iso(c.t), granted: c.v.granted, source: c.v.source })), from: (doc) => doc.consent },
  {
    name: 'demographic',
    view: (doc) => ({ country: cellValue(doc.demographic?.country), locale: cellValue(doc.demographic?.locale) }),
    from: (doc) => doc.demographic,
  },
  { name: 'freshness', view: freshnessView },
  {
    name: 'identity',
    view: (doc) => {
      const id = doc.identity ?? {};
      return { anonymous_ids: sorted(id.anonymous_ids), emails: sorted(id.emails), phones: sorted(id.phones), user_ids: sorted(id.user_ids) };
    },
    from: (doc) => doc.identity,
  },
  { name: 'last_event_at', view: (doc) => iso(doc.hw) },
  { name: 'loyalty', view: loyaltyView, from: (doc) => doc.loyalty },
  { name: 'merged_ids', view: (_doc, options) => [...options.merged_ids].sort(cmpStr) },
  { name: 'predictions', view: (doc) => predictionsView(doc.predictions), from: (doc) => doc.predictions },
  { name: 'profile_id', view: (_doc, options) => options.profile_id },
  { name: 'support', view: supportView, from: (doc) => doc.support },
  {
    name: 'technology',
    view: (doc) => {
      const dev = doc.technology?.last_device;
      return {
        device_types: sorted(doc.technology?.device_types),
        devices: ranked(doc.technology?.devices),
        last_device: dev === undefined ? null : { at: iso(dev.t), browser: dev.v.browser ?? null, os: dev.v.os ?? null, type: dev.v.type },
      };
    },
    from: (doc) => doc.technology,
  },
  { name: 'transactions', view: transactionsView, from: (doc) => doc.transactions },
];

/** The profile as the API and CLI show it. */
export function profileView(doc: ProfileDoc, options: ViewOptions): JsonValue {
  const out: { [key: string]: JsonValue } = {};
  for (const s of SECTIONS) out[s.name] = s.view(doc, options);
  return out;
}

/** Per section: the JSON of its view of an absent document section (the same for every document). */
const ABSENT_JSON: (string | undefined)[] = SECTIONS.map(() => undefined);

/**
 * JSON.stringify(profileView(doc, options)), to the byte (view.reference.test.ts), section by section: an absent
 * section's JSON is written once per process. Nothing is kept per document: a WeakMap entry per section object (issue
 * 12, fourth round) cost a stitcher more than the serialising it saved (V8 walks a WeakMap's young keys at every
 * scavenge), and a memo per kept document lengthened its collections' pauses (seventh round).
 */
export function profileViewJson(doc: ProfileDoc, options: ViewOptions): string {
  let out = '{';
  for (let i = 0; i < SECTIONS.length; i++) {
    const s = SECTIONS[i]!;
    const absent = s.from !== undefined && s.from(doc) === undefined;
    if (absent) ABSENT_JSON[i] ??= JSON.stringify(s.view(doc, options));
    const json = absent ? ABSENT_JSON[i]! : JSON.stringify(s.view(doc, options));
    out += `${i === 0 ? '' : ','}"${s.name}":${json}`;
  }
  return `${out}}`;
}
