/**
 * Decoded events → typed warehouse rows (pure). Values ClickHouse would reject or that make no sense in a column
 * (times outside 1970–2099, non-integer or unsafe numbers, over-long strings) throw a WarehouseError whose code is
 * the DLQ reason; input events also pass the stitchers' validation and identifier rules (same DLQ codes), so the
 * warehouse and the profiles agree on which events count.
 */
import type { ClickEvent, LoyaltyEvent, ProfileChanged, ProfileMerged, Purchase, SegmentMembershipChanged, SupportTicket } from '@profile-stream/contracts';
import { normaliseIdentifiers, requireIdentifier, validateEvent, type EventOf, type InputTopic, type NormalisedIds } from '@profile-stream/profile';
import { WarehouseError } from './errors.ts';

export type Row = Record<string, unknown>;

/**
 * Tables the sink writes, each with its event-id column and the time column that bounds the look-up of ids already
 * stored (the sink skips those, so replays insert nothing twice and materialized views never count twice).
 */
export const TABLES = {
  clickstream_events: { time: 'occurred_at' },
  purchases: { time: 'occurred_at' },
  purchase_items: { time: 'occurred_at' },
  support_tickets: { time: 'occurred_at' },
  loyalty_events: { time: 'occurred_at' },
  segment_membership_changes: { time: 'occurred_at' },
  profiles: { time: 'updated_at' },
  identity_merges: { time: 'occurred_at' },
} as const;
export type TableName = keyof typeof TABLES;

export type TableRows = Partial<Record<TableName, Row[]>>;

export interface RowOptions {
  storePii: (type: 'email' | 'phone', value: string) => string;
  defaultRegion: string;
  blocklist: ReadonlySet<string>;
  now: number;
  maxFutureMs: number;
  /** The loyalty programme's tiers (LOYALTY_TIERS; default DEFAULT_LOYALTY_TIERS): the stitchers' rule. */
  loyaltyTiers?: readonly string[];
  /** Stored identity by raw identifier values, kept across chunks (phone parsing and hashing are the costly part). */
  identities?: Map<string, StoredIdentity | Error>;
}

export interface StoredIdentity {
  customer_key: string;
  anonymous_id: string | null;
  user_id: string | null;
  email: string | null;
  phone: string | null;
}
const IDENTITY_CACHE_LIMIT = 200_000;

const MAX_TIME = Date.UTC(2100, 0, 1);
const LIMITS = { id: 512, label: 256, text: 16_384 } as const;

function time(v: number, path: string): number {
  if (!Number.isSafeInteger(v) || v < 0 || v >= MAX_TIME) {
    throw new WarehouseError('timestamp_out_of_range', `${path} ${v} is outside 1970-01-01 .. 2099-12-31 (epoch ms)`, { details: { path } });
  }
  return v;
}

function int(v: number, path: string, min: number, max: number): number {
  if (!Number.isSafeInteger(v) || v < min || v > max)
    throw new WarehouseError('value_out_of_range', `${path} ${v} is not an integer in [${min}, ${max}]`, { details: { path } });
  return v;
}

function str(v: string, kind: keyof typeof LIMITS, path: string): string;
function str(v: string | null | undefined, kind: keyof typeof LIMITS, path: string): string | null;
function str(v: string | null | undefined, kind: keyof typeof LIMITS, path: string): string | null {
  if (v === null || v === undefined) return null;
  if (v.length > LIMITS[kind])
    throw new WarehouseError('value_too_long', `${path} has ${v.length} characters (at most ${LIMITS[kind]})`, { details: { path } });
  return v;
}

const INT64 = Number.MAX_SAFE_INTEGER;
const INT32 = 2_147_483_647;

/** Normalised, stored identifiers of an input event and its customer key (user_id > email > phone > anonymous_id). */
function identity(ids: NormalisedIds, o: RowOptions): StoredIdentity {
  const email = ids.email === undefined ? null : o.storePii('email', ids.email);
  const phone = ids.phone === undefined ? null : o.storePii('phone', ids.phone);
  const anonymous_id = str(ids.anonymous_id ?? null, 'id', 'anonymous_id');
  const user_id = str(ids.user_id ?? null, 'id', 'user_id');
  return { customer_key: (user_id ?? email ?? phone ?? anonymous_id)!, anonymous_id, user_id, email, phone };
}

function prepareInput(topic: InputTopic, e: EventOf<InputTopic>, o: RowOptions) {
  time(e.occurred_at, 'occurred_at');
  validateEvent(topic, e as never, { now: o.now, maxFutureMs: o.maxFutureMs, loyaltyTiers: o.loyaltyTiers });
  return { event_id: str(e.event_id, 'id', 'event_id'), occurred_at: e.occurred_at, ...storedIdentity(e, o), ...accountColumns(e) };
}

/** The B2B account the event names (migration 0008), trimmed as the profile fold reads it; none on loyalty events. */
function accountColumns(e: EventOf<InputTopic>) {
  if (!('account' in e)) return {};
  const blank = (v: string | null | undefined) => (v?.trim() ? v.trim() : null);
  return {
    account_id: str(blank(e.account?.account_id), 'id', 'account.account_id'),
    account_name: str(blank(e.account?.name), 'label', 'account.name'),
    account_domain: str(blank(e.account?.domain)?.toLowerCase(), 'label', 'account.domain'),
  };
}

function storedIdentity(e: EventOf<InputTopic>, o: RowOptions): StoredIdentity {
  const compute = () => {
    const ids = normaliseIdentifiers(e, { defaultRegion: o.defaultRegion, blocklist: o.blocklist });
    requireIdentifier(ids);
    return identity(ids, o);
  };
  if (!o.identities) return compute();
  const key = `${e.user_id}\u0000${e.email}\u0000${e.phone}\u0000${e.anonymous_id}`;
  let hit = o.identities.get(key);
  if (hit === undefined) {
    try {
      hit = compute();
    } catch (err) {
      hit = err as Error;
    }
    if (o.identities.size >= IDENTITY_CACHE_LIMIT) o.identities.clear();
    o.identities.set(key, hit);
  }
  if (hit instanceof Error) throw hit;
  return hit;
}

export function clickRows(e: ClickEvent, o: RowOptions): TableRows {
  const base = prepareInput('clickstream', e, o);
  return {
    clickstream_events: [
      {
        ...base,
        event_type: e.type,
        page_url: str(e.page?.url, 'text', 'page.url'),
        page_referrer: str(e.page?.referrer, 'text', 'page.referrer'),
        page_title: str(e.page?.title, 'text', 'page.title'),
        utm_source: str(e.utm?.source, 'label', 'utm.source'),
        utm_medium: str(e.utm?.medium, 'label', 'utm.medium'),
        utm_campaign: str(e.utm?.campaign, 'label', 'utm.campaign'),
        device_type: e.device?.type ?? 'unknown',
        device_os: str(e.device?.os, 'label', 'device.os'),
        device_browser: str(e.device?.browser, 'label', 'device.browser'),
        country: str(e.country, 'label', 'country'),
        locale: str(e.locale, 'label', 'locale'),
        product_sku: str(e.product?.sku, 'id', 'product.sku'),
        product_category: str(e.product?.category, 'label', 'product.category'),
        product_price_minor: e.product?.price_minor == null ? null : int(e.product.price_minor, 'product.price_minor', 0, INT64),
        product_currency: e.product?.currency ?? null,
        search_query: str(e.search_query, 'text', 'search_query'),
        consent_purpose: e.consent?.purpose ?? null,
        consent_granted: e.consent?.granted ?? null,
      },
    ],
  };
}

export function purchaseRows(e: Purchase, o: RowOptions): TableRows {
  const base = prepareInput('purchases', e, o);
  const sign = e.status === 'completed' ? 1 : -1;
  const total = int(e.total_minor, 'total_minor', 0, INT64);
  const shared = {
    event_id: base.event_id,
    occurred_at: base.occurred_at,
    order_id: str(e.order_id, 'id', 'order_id'),
    status: e.status,
    channel: e.channel,
    currency: e.currency,
  };
  return {
    purchases: [{ ...base, ...shared, total_minor: total, signed_total_minor: sign * total, items_count: e.items.length }],
    purchase_items: e.items.map((it, line) => {
      const quantity = int(it.quantity, `items.${line}.quantity`, 0, INT32);
      const unit = int(it.unit_price_minor, `items.${line}.unit_price_minor`, 0, INT64);
      const amount = quantity * unit;
      if (!Number.isSafeInteger(amount))
        throw new WarehouseError('value_out_of_range', `items.${line}: quantity × unit_price_minor overflows`, { details: { path: `items.${line}` } });
      return {
        ...shared,
        line,
        sku: str(it.sku, 'id', `items.${line}.sku`),
        category: str(it.category, 'label', `items.${line}.category`) ?? '',
        quantity,
        unit_price_minor: unit,
        signed_amount_minor: sign * amount,
        customer_key: base.customer_key,
      };
    }),
  };
}

export function ticketRows(e: SupportTicket, o: RowOptions): TableRows {
  const base = prepareInput('support-tickets', e, o);
  return {
    support_tickets: [
      {
        ...base,
        ticket_id: str(e.ticket_id, 'id', 'ticket_id'),
        status: e.status,
        channel: e.channel,
        priority: e.priority,
        category: str(e.category, 'label', 'category'),
        subject: str(e.subject, 'text', 'subject'),
        satisfaction: e.satisfaction,
      },
    ],
  };
}

const POINTS_SIGN: Readonly<Record<string, number>> = { points_earned: 1, points_redeemed: -1, points_expired: -1 };

export function loyaltyRows(e: LoyaltyEvent, o: RowOptions): TableRows {
  const base = prepareInput('loyalty', e, o);
  const points = e.points === null ? null : int(e.points, 'points', 1, INT64);
  return {
    loyalty_events: [
      {
        ...base,
        member_id: str(e.member_id.trim(), 'id', 'member_id'),
        type: e.type,
        points,
        signed_points: (POINTS_SIGN[e.type] ?? 0) * (points ?? 0),
        tier: str(e.tier, 'label', 'tier'),
        reason: str(e.reason, 'text', 'reason'),
        order_id: str(e.order_id, 'id', 'order_id'),
        expires_at: e.expires_at === null ? null : time(e.expires_at, 'expires_at'),
      },
    ],
  };
}

export function membershipRows(e: SegmentMembershipChanged): TableRows {
  for (const [k, v] of Object.entries(e.traits ?? {})) str(v, 'text', `traits.${k}`);
  return {
    segment_membership_changes: [
      {
        event_id: str(e.event_id, 'id', 'event_id'),
        profile_id: str(e.profile_id, 'id', 'profile_id'),
        segment_id: str(e.segment_id, 'label', 'segment_id'),
        segment_version: int(e.segment_version, 'segment_version', 0, 4_294_967_295),
        change: e.change,
        reason: e.reason,
        membership_version: int(e.membership_version, 'membership_version', 0, INT64),
        occurred_at: time(e.occurred_at, 'occurred_at'),
        emitted_at: time(e.emitted_at, 'emitted_at'),
        trigger_event_id: str(e.trigger_event_id, 'id', 'trigger_event_id'),
        traits: e.traits ?? {},
      },
    ],
  };
}

export function mergeRows(e: ProfileMerged): TableRows {
  return {
    identity_merges: [
      {
        event_id: str(e.event_id, 'text', 'event_id'),
        profile_id: str(e.profile_id, 'id', 'profile_id'),
        merged_profile_id: str(e.merged_profile_id, 'id', 'merged_profile_id'),
        outcome: e.outcome,
        matched_on: str(e.matched_on, 'label', 'matched_on'),
        reason: str(e.reason, 'label', 'reason'),
        trigger_event_id: str(e.trigger_event_id, 'id', 'trigger_event_id'),
        occurred_at: time(e.occurred_at, 'occurred_at'),
        emitted_at: time(e.emitted_at, 'emitted_at'),
      },
    ],
  };
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const isoTime = (v: unknown, path: string): number | null => (typeof v === 'string' ? time(Date.parse(v), path) : null);
const count = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);

/** A profile snapshot row from profile-changes (`profile_json` is the profile view of DESIGN §5); null when erased. */
export function profileRows(e: ProfileChanged, o: Pick<RowOptions, 'storePii'>): TableRows | null {
  if (e.profile_json === null) return null;
  let p: Json;
  try {
    p = obj(JSON.parse(e.profile_json));
  } catch (err) {
    throw new WarehouseError('value_out_of_range', `profile_json is not JSON: ${(err as Error).message}`, { details: { path: 'profile_json' } });
  }
  const identity = obj(p.identity);
  const activity = obj(p.activity);
  const tx = obj(p.transactions);
  const support = obj(p.support);
  const revenue: Record<string, number> = {};
  for (const [cur, n] of Object.entries(obj(tx.revenue_minor))) if (typeof n === 'number') revenue[cur] = int(n, `revenue_minor.${cur}`, -INT64, INT64);
  const consent: Record<string, boolean> = {};
  for (const [purpose, c] of Object.entries(obj(p.consent))) if (typeof obj(c).granted === 'boolean') consent[purpose] = obj(c).granted as boolean;
  const csat = support.last_csat;
  return {
    profiles: [
      {
        profile_id: str(e.profile_id, 'id', 'profile_id'),
        version: int(e.profile_version, 'profile_version', 0, INT64),
        event_id: str(e.event_id, 'text', 'event_id'),
        updated_at: time(e.occurred_at, 'occurred_at'),
        cause: e.cause,
        merged_ids: strings(p.merged_ids),
        user_ids: strings(identity.user_ids),
        anonymous_ids: strings(identity.anonymous_ids),
        emails: strings(identity.emails).map((v) => o.storePii('email', v)),
        phones: strings(identity.phones).map((v) => o.storePii('phone', v)),
        first_seen_at: isoTime(activity.first_seen_at, 'activity.first_seen_at'),
        last_seen_at: isoTime(activity.last_seen_at, 'activity.last_seen_at'),
        orders_count: count(tx.orders_count),
        revenue_minor: revenue,
        first_purchase_at: isoTime(tx.first_purchase_at, 'transactions.first_purchase_at'),
        last_purchase_at: isoTime(tx.last_purchase_at, 'transactions.last_purchase_at'),
        tickets_count: count(support.tickets_count),
        open_tickets: count(support.open_tickets),
        last_csat: typeof csat === 'number' && csat >= 1 && csat <= 5 ? csat : null,
        consent,
        contact_confirmed_at: isoTime(obj(p.freshness).contact_confirmed_at, 'freshness.contact_confirmed_at'),
      },
    ],
  };
}

export function rowCount(t: TableRows): number {
  let n = 0;
  for (const rows of Object.values(t)) n += rows.length;
  return n;
}
