// The profile document: JSON made only of objects, strings, finite numbers and booleans: no arrays (sets are
// objects value → rank) and no nulls (absent = the rule's identity element), so that it survives a Lua cjson
// round trip exactly. Empty objects never appear below the root (compactDoc removes them).
import { RULES } from './rules.ts';
import type { Rule } from './rules.ts';

export type Scalar = string | number | boolean;
export type DocValue = Scalar | DocObject;
export type DocObject = { [key: string]: DocValue };

/** Value of an lww/fww cell: a scalar or a flat object of scalars. */
export type CellValue = Scalar | { [key: string]: Scalar };
/** An lww/fww cell: value, occurred_at of the event that wrote it, event_id of that event. */
export type Cell<V extends CellValue = CellValue> = { v: V; t: number; id: string };
/** value → rank (last seen time). */
export type RankSet = { [value: string]: number };

export type FirstTouch = { channel: string; source?: string; medium?: string; campaign?: string; referrer?: string; landing_page?: string };
export type DeviceValue = { type: string; os?: string; browser?: string };
export type ConsentValue = { granted: boolean; source: string };
/** The predictions cell's value (flat: a cell holds scalars); optional fields are absent when not computed. */
export type PredictionsValue = {
  model_version: number;
  p_alive: number;
  purchases_30d: number;
  purchases_90d: number;
  purchases_365d: number;
  currency?: string;
  order_value_minor?: number;
  clv_minor?: number;
  next_purchase_at?: number;
  /** The channel and UTC hour of the week (0 = Monday 00h) with the highest shrunk engagement rate. */
  best_channel?: string;
  best_hour_of_week?: number;
};

export type OrderDoc = {
  completed_at?: number;
  completed_minor?: number;
  currency?: Cell<string>;
  channel?: Cell<string>;
  cancelled?: number;
  cancelled_minor?: number;
  refunded_minor?: number;
  last_event_at?: number;
};
export type TicketDoc = {
  opened_at?: number;
  first_event_at?: number;
  last_event_at?: number;
  status?: Cell<string>;
  priority?: Cell<string>;
  channel?: Cell<string>;
  category?: Cell<string>;
};

/** The typed view of a document following RULES; every field is optional (absent = identity element). */
export type ProfileDoc = {
  hw?: number;
  identity?: { user_ids?: RankSet; emails?: RankSet; phones?: RankSet; anonymous_ids?: RankSet };
  acquisition?: { first_touch?: Cell<FirstTouch>; first_order_channel?: Cell<string> };
  demographic?: { country?: Cell<string>; locale?: Cell<string> };
  technology?: { devices?: RankSet; device_types?: RankSet; last_device?: Cell<DeviceValue> };
  activity?: {
    first_seen_at?: number;
    last_seen_at?: number;
    events?: { [kind: string]: number };
    page_views?: number;
    product_views?: number;
    product_views_by_category?: { [category: string]: number };
    recent_product_views?: RankSet;
    searches?: number;
    last_search?: Cell<string>;
    categories?: RankSet;
    cart?: { last_add_to_cart_at?: number; last_checkout_started_at?: number; items?: { [sku: string]: Cell<boolean> } };
  };
  transactions?: {
    orders?: { [orderId: string]: OrderDoc };
    revenue_minor?: { [currency: string]: number };
    refunds_count?: number;
    cancellations_count?: number;
    channels?: RankSet;
  };
  support?: {
    tickets?: { [ticketId: string]: TicketDoc };
    csat_sum?: number;
    csat_count?: number;
    last_csat?: Cell<number>;
    last_contact_channel?: Cell<string>;
  };
  engagement?: { channels?: { [channel: string]: number }; hours?: { [hourOfWeek: string]: number } };
  consent?: { [purpose: string]: Cell<ConsentValue> };
  account?: {
    id?: Cell<string>;
    seen?: { [accountId: string]: number };
    names?: { [accountId: string]: Cell<string> };
    domains?: { [accountId: string]: Cell<string> };
  };
  freshness?: { email?: { [email: string]: number }; phone?: { [phone: string]: number } };
  loyalty?: {
    member_id?: Cell<string>;
    status?: Cell<string>;
    enrolled_at?: number;
    tier?: Cell<string>;
    earned?: number;
    redeemed?: number;
    expired?: number;
    last_earned_at?: number;
    last_redeemed_at?: number;
    lots?: { [expiresAt: string]: number };
  };
  predictions?: Cell<PredictionsValue>;
};

export function emptyDoc(): ProfileDoc {
  return {};
}

export function cell<V extends CellValue>(v: V, t: number, id: string): Cell<V> {
  return { v, t, id };
}

/** Own property of a data-keyed object (a key like "__proto__" must never reach the prototype). */
export function own<T>(o: { [key: string]: T }, key: string): T | undefined {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** Sets a data key as an own property, "__proto__" included. */
export function put<T>(o: { [key: string]: T }, key: string, v: T): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value: v, enumerable: true, writable: true, configurable: true });
  else o[key] = v;
}

export function isObject(v: unknown): v is DocObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Strings compare by Unicode code point, which is the byte order of their UTF-8 form: the order Lua's byte-wise
 * comparison (ps_cmpstr in lua.ts) sees. JS `<` compares UTF-16 code units, which differs for astral characters.
 */
export function cmpStr(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // code point order fix-up: surrogates (astral code points) sort after U+E000..U+FFFF
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

const TYPE_RANK = { boolean: 0, number: 1, string: 2, object: 3 } as const;

function typeRank(v: DocValue): number {
  return TYPE_RANK[typeof v as keyof typeof TYPE_RANK];
}

export function sortedKeys(o: object): string[] {
  return Object.keys(o).sort(cmpStr);
}

/** A total order on document values (booleans < numbers < strings < objects; objects by sorted entries). */
export function cmpValue(a: DocValue, b: DocValue): number {
  const ta = typeRank(a);
  const tb = typeRank(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (typeof a === 'string') return cmpStr(a, b as string);
  if (typeof a !== 'object') return a === b ? 0 : a < (b as Scalar) ? -1 : 1;
  const bo = b as DocObject;
  const ka = sortedKeys(a);
  const kb = sortedKeys(bo);
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    const c = cmpStr(ka[i]!, kb[i]!);
    if (c !== 0) return c;
    const cv = cmpValue(own(a, ka[i]!)!, own(bo, kb[i]!)!);
    if (cv !== 0) return cv;
  }
  return ka.length === kb.length ? 0 : ka.length < kb.length ? -1 : 1;
}

/** Order of cells: by t, then id, then v. lww keeps the greatest, fww the smallest. */
export function cmpCell(a: Cell, b: Cell): number {
  if (a.t !== b.t) return a.t < b.t ? -1 : 1;
  const c = cmpStr(a.id, b.id);
  return c !== 0 ? c : cmpValue(a.v, b.v);
}

/** The top `limit` entries of a set by (rank desc, value asc). */
export function truncateSet(s: RankSet, limit: number): RankSet {
  const keys = Object.keys(s);
  if (keys.length <= limit) return s;
  keys.sort((x, y) => (s[x] !== s[y] ? s[y]! - s[x]! : cmpStr(x, y)));
  const out: RankSet = {};
  for (const k of keys.slice(0, limit)) put(out, k, s[k]!);
  return out;
}

function compactValue(rule: Rule, v: DocValue | undefined): DocValue | undefined {
  if (v === undefined) return undefined;
  switch (rule.kind) {
    case 'min':
    case 'max':
    case 'sum':
    case 'lww':
    case 'fww':
      return v;
    case 'set':
      return isObject(v) && Object.keys(v).length > 0 ? truncateSet(v as RankSet, rule.limit) : undefined;
    case 'map': {
      if (!isObject(v)) return undefined;
      const out: DocObject = {};
      for (const k of Object.keys(v)) {
        const c = compactValue(rule.of, v[k]);
        if (c !== undefined) put(out, k, c);
      }
      return Object.keys(out).length > 0 ? out : undefined;
    }
    case 'record': {
      if (!isObject(v)) return undefined;
      const out: DocObject = {};
      for (const f of Object.keys(rule.fields)) {
        const c = compactValue(rule.fields[f]!, own(v, f));
        if (c !== undefined) out[f] = c;
      }
      return Object.keys(out).length > 0 ? out : undefined;
    }
  }
}

/**
 * The canonical form of a document: undeclared fields dropped, empty objects removed, sets cut to their limit.
 * join() expects and returns canonical documents (join of canonical documents is canonical).
 */
export function compactDoc(doc: DocObject | ProfileDoc): ProfileDoc {
  return (compactValue(RULES, doc as DocObject) ?? {}) as ProfileDoc;
}
