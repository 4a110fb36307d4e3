// The merge rule of every path of the profile document, declared once. The TS join (join.ts) and the Lua join
// (lua.ts, generated from this table) both interpret RULES, so the two can never disagree about a field's rule.
//
// Every rule is a join-semilattice or a commutative monoid on its values, with "absent" as the identity element:
//   min / max   numbers (epoch ms or 0/1 flags)                 idempotent
//   sum         integer counts and amounts                       NOT idempotent: correct because the store applies
//                                                                each event_id to a profile once (DESIGN §5)
//   lww / fww   cell {v, t, id}: the greatest / smallest (t, id, v) wins (t = occurred_at, id = event_id; v only
//               breaks ties between two different values claimed by one event id, which real events never do)
//   set         object value → rank (last seen time); union keeping the larger rank, then the top `limit` by
//               (rank desc, value asc)
//   map         object key → value joined by `of`
//   record      fixed fields, each joined by its own rule

export type LeafKind = 'min' | 'max' | 'sum' | 'lww' | 'fww';

export type Rule =
  | { readonly kind: LeafKind }
  | { readonly kind: 'set'; readonly limit: number }
  | { readonly kind: 'map'; readonly of: Rule }
  | { readonly kind: 'record'; readonly fields: { readonly [field: string]: Rule } };

export type RecordRule = Extract<Rule, { kind: 'record' }>;

const min = { kind: 'min' } as const;
const max = { kind: 'max' } as const;
const sum = { kind: 'sum' } as const;
const lww = { kind: 'lww' } as const;
const fww = { kind: 'fww' } as const;
const set = (limit: number) => ({ kind: 'set', limit }) as const;
const map = <R extends Rule>(of: R) => ({ kind: 'map', of }) as const;
const record = <F extends { readonly [field: string]: Rule }>(fields: F) => ({ kind: 'record', fields }) as const;

/** Per-profile identifier limits (DESIGN §4): the store refuses merges beyond them; the doc's sets are bounded by them. */
export const IDENTITY_LIMITS = { user_ids: 1, emails: 5, phones: 5, anonymous_ids: 100 } as const;

/** Bounds of the other sets of the document. */
export const SET_LIMITS = { devices: 10, device_types: 4, categories: 20, purchase_channels: 5, recent_product_views: 50 } as const;

export const RULES = record({
  /** High-water mark: the greatest occurred_at applied (the store's too-late window is measured from it). */
  hw: max,
  identity: record({
    user_ids: set(IDENTITY_LIMITS.user_ids),
    emails: set(IDENTITY_LIMITS.emails),
    phones: set(IDENTITY_LIMITS.phones),
    anonymous_ids: set(IDENTITY_LIMITS.anonymous_ids),
  }),
  acquisition: record({
    /** v: {channel, source?, medium?, campaign?, referrer?, landing_page?} of the first clickstream event. */
    first_touch: fww,
    /** v: purchase channel of the first completed order. */
    first_order_channel: fww,
  }),
  demographic: record({ country: lww, locale: lww }),
  technology: record({
    /** "type/os/browser" → last seen. */
    devices: set(SET_LIMITS.devices),
    device_types: set(SET_LIMITS.device_types),
    /** v: {type, os?, browser?}. */
    last_device: lww,
  }),
  activity: record({
    first_seen_at: min,
    last_seen_at: max,
    /** Event counts by kind: click types, `purchase.<status>`, `ticket.<status>`. */
    events: map(sum),
    page_views: sum,
    product_views: sum,
    product_views_by_category: map(sum),
    /** The latest product views (event id → occurred_at): windowed counts ("5 views in 30 d") are exact up to the limit. */
    recent_product_views: set(SET_LIMITS.recent_product_views),
    searches: sum,
    last_search: lww,
    /** Categories of interest (viewed, carted, bought) → last seen. */
    categories: set(SET_LIMITS.categories),
    cart: record({
      last_add_to_cart_at: max,
      last_checkout_started_at: max,
      /** sku → cell with v = in cart (add_to_cart true; remove_from_cart and a completed purchase of it false). */
      items: map(lww),
    }),
  }),
  transactions: record({
    orders: map(
      record({
        completed_at: min,
        completed_minor: sum,
        currency: lww,
        channel: lww,
        /** 1 once any cancellation of the order was seen. */
        cancelled: max,
        cancelled_minor: sum,
        refunded_minor: sum,
        last_event_at: max,
      }),
    ),
    /** Completed totals minus refunded and cancelled amounts, per currency (DESIGN §5). */
    revenue_minor: map(sum),
    refunds_count: sum,
    cancellations_count: sum,
    channels: set(SET_LIMITS.purchase_channels),
  }),
  support: record({
    tickets: map(
      record({
        /** Time of the ticket's `opened` event. */
        opened_at: min,
        first_event_at: min,
        last_event_at: max,
        status: lww,
        priority: lww,
        channel: lww,
        category: lww,
      }),
    ),
    csat_sum: sum,
    csat_count: sum,
    last_csat: lww,
    last_contact_channel: lww,
  }),
  /** The loyalty programme (loyalty.ts: what each event adds, and the derived balance and next expiry). */
  loyalty: record({
    member_id: lww,
    /** v: `enrolled` or `left`. */
    status: lww,
    enrolled_at: min,
    /** v: the tier; t: since when (the enrolled or tier_changed event that set it). */
    tier: lww,
    earned: sum,
    redeemed: sum,
    expired: sum,
    last_earned_at: max,
    last_redeemed_at: max,
    /** expires_at (epoch ms, decimal) → points earned that expire then: one entry per distinct expiry instant. */
    lots: map(sum),
  }),
  /** Engagement counts (engagement.ts): channel → events, hour of the week (UTC, "0"–"167", only hours seen) → events. */
  engagement: record({ channels: map(sum), hours: map(sum) }),
  /** purpose → cell with v = {granted, source}. */
  consent: map(lww),
  /** The B2B account the contact acts for (account.ts: an older claim of another account loses). */
  account: record({
    /** v: the account id; LWW by (occurred_at, event_id). */
    id: lww,
    /** account id → first event naming it (the current one's `since`; the others are accounts the contact left). */
    seen: map(min),
    /** account id → the latest name / domain an event stated for it. */
    names: map(lww),
    domains: map(lww),
  }),
  /**
   * When each e-mail and phone was last confirmed by an event: value → time. Country, locale and consent need no copy
   * here: their lww cell's time is already the last time any event stated them (the view shows it under `freshness`).
   */
  freshness: record({ email: map(max), phone: map(max) }),
  /** v: the latest scores of `profile-stream predict score` (packages/profile/src/predictions.ts), t = when scored. */
  predictions: lww,
});
