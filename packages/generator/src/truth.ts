// Ground truth: what a correct pipeline must end up with, folded from exactly the records the generator emitted
// (valid, unique ones; malformed records are what a consumer dead-letters, duplicates are counted once).
// Definitions follow DESIGN §5: orders_count = distinct order ids completed and not cancelled; revenue_minor per
// currency = completed totals − refunded/cancelled totals; consent and last CSAT are last-writer-wins by
// (occurred_at, event_id). Identity fragments come from a union-find over the normalised usable identifiers that
// appear together on valid events: that is how many profiles identity resolution must produce.
import { isJunk, normaliseEmail, normalisePhone } from './identity.ts';
import { CONSENT_PURPOSES, MALFORMED_REASONS, type ConsentPurpose, type Identifiers, type MalformedReason, type Topic, type ValidRecord } from './types.ts';

export interface CustomerTruth {
  index: number;
  country: string;
  archetype: string;
  /** Normalised identifiers seen on valid events (email trimmed + lower-case, phone E.164, ids trimmed). */
  identity: { user_ids: string[]; emails: string[]; phones: string[]; anonymous_ids: string[] };
  /** Connected identity components this customer's valid events form: 1 = one profile, more = unstitched devices. */
  fragments: number;
  events: Record<Topic, number>;
  activity: { first_seen_at: number | null; last_seen_at: number | null };
  transactions: {
    orders_count: number;
    order_ids: string[];
    revenue_minor: Record<string, number>;
    first_purchase_at: number | null;
    last_purchase_at: number | null;
  };
  support: { tickets_count: number; open_tickets: number; last_csat: number | null };
  consent: Partial<Record<ConsentPurpose, { granted: boolean; at: number }>>;
}

export interface GroundTruth {
  customers: number;
  /** Customers with at least one valid event. */
  active_customers: number;
  /** Profiles identity resolution must end with (connected components of identifiers). */
  expected_profiles: number;
  records: number;
  valid: Record<Topic, number>;
  malformed: Record<Topic, number>;
  malformed_by_reason: Record<MalformedReason, number>;
  duplicates: Record<Topic, number>;
  /** Valid events carrying at least one junk identifier, and the junk identifier values a pipeline must drop. */
  junk_events: number;
  junk_identifiers: number;
  orders_count: number;
  revenue_minor: Record<string, number>;
  per_customer: CustomerTruth[];
}

interface OrderState {
  completedAt: number | null;
  cancelled: boolean;
}
interface Stamp {
  at: number;
  id: string;
}
const later = (a: Stamp, b: Stamp | undefined): boolean => !b || a.at > b.at || (a.at === b.at && a.id > b.id);

interface Acc {
  t: CustomerTruth;
  ids: Set<string>;
  orders: Map<string, OrderState>;
  tickets: Map<string, Stamp & { status: string }>;
  csat?: Stamp & { value: number };
  consent: Map<ConsentPurpose, Stamp & { granted: boolean }>;
}

const perTopic = (): Record<Topic, number> => ({ clickstream: 0, purchases: 0, 'support-tickets': 0, loyalty: 0 });

/** Normalised identifier keys ("u:", "e:", "p:", "a:") of an event; junk values are left out. */
export function identifierKeys(v: Identifiers, defaultRegion: string): string[] {
  const keys: string[] = [];
  if (!isJunk(v.user_id)) keys.push(`u:${(v.user_id ?? '').trim()}`);
  if (!isJunk(v.email)) keys.push(`e:${normaliseEmail(v.email ?? '')}`);
  if (!isJunk(v.phone)) {
    const e164 = normalisePhone(v.phone ?? '', defaultRegion);
    if (e164) keys.push(`p:${e164}`);
  }
  if (!isJunk(v.anonymous_id)) keys.push(`a:${(v.anonymous_id ?? '').trim()}`);
  return keys;
}

export class TruthBuilder {
  private readonly accs = new Map<number, Acc>();
  private readonly parent = new Map<string, string>();
  private readonly totals = {
    records: 0,
    valid: perTopic(),
    malformed: perTopic(),
    duplicates: perTopic(),
    junk_events: 0,
    junk_identifiers: 0,
    malformed_by_reason: Object.fromEntries(MALFORMED_REASONS.map((r) => [r, 0])) as Record<MalformedReason, number>,
  };
  private readonly customers: number;
  private readonly defaultRegion: string;
  private readonly meta: (index: number) => { country: string; archetype: string };

  constructor(customers: number, defaultRegion: string, meta: (index: number) => { country: string; archetype: string }) {
    this.customers = customers;
    this.defaultRegion = defaultRegion;
    this.meta = meta;
  }

  malformed(topic: Topic, reason: MalformedReason): void {
    this.totals.records += 1;
    this.totals.malformed[topic] += 1;
    this.totals.malformed_by_reason[reason] += 1;
  }

  duplicate(topic: Topic): void {
    this.totals.records += 1;
    this.totals.duplicates[topic] += 1;
  }

  valid(customer: number, record: ValidRecord, junkFields: number): void {
    this.totals.records += 1;
    this.totals.valid[record.topic] += 1;
    if (junkFields > 0) {
      this.totals.junk_events += 1;
      this.totals.junk_identifiers += junkFields;
    }
    const acc = this.acc(customer);
    const t = acc.t;
    const v = record.value;
    t.events[record.topic] += 1;
    const keys = identifierKeys(v, this.defaultRegion);
    for (const k of keys) acc.ids.add(k);
    for (let i = 1; i < keys.length; i++) this.union(keys[0] as string, keys[i] as string);
    const at = v.occurred_at;
    const stamp = { at, id: v.event_id };
    t.activity.first_seen_at = Math.min(t.activity.first_seen_at ?? at, at);
    t.activity.last_seen_at = Math.max(t.activity.last_seen_at ?? at, at);
    if (record.topic === 'purchases') {
      const p = record.value;
      const sign = p.status === 'completed' ? 1 : -1;
      t.transactions.revenue_minor[p.currency] = (t.transactions.revenue_minor[p.currency] ?? 0) + sign * p.total_minor;
      const order = acc.orders.get(p.order_id) ?? { completedAt: null, cancelled: false };
      if (p.status === 'completed') order.completedAt = Math.min(order.completedAt ?? at, at);
      if (p.status === 'cancelled') order.cancelled = true;
      acc.orders.set(p.order_id, order);
    } else if (record.topic === 'support-tickets') {
      const s = record.value;
      const prev = acc.tickets.get(s.ticket_id);
      if (later(stamp, prev)) acc.tickets.set(s.ticket_id, { ...stamp, status: s.status });
      if (s.satisfaction !== null && later(stamp, acc.csat)) acc.csat = { ...stamp, value: s.satisfaction };
    } else if (record.topic === 'clickstream' && record.value.type === 'consent_updated' && record.value.consent) {
      const { purpose, granted } = record.value.consent;
      if (later(stamp, acc.consent.get(purpose))) acc.consent.set(purpose, { ...stamp, granted });
    }
  }

  build(): GroundTruth {
    const per_customer: CustomerTruth[] = [];
    const revenue: Record<string, number> = {};
    let orders = 0;
    const roots = new Set<string>();
    for (let i = 0; i < this.customers; i++) {
      const acc = this.accs.get(i);
      if (!acc) continue;
      const t = acc.t;
      const mine = new Set<string>();
      t.identity = { user_ids: [], emails: [], phones: [], anonymous_ids: [] };
      for (const k of [...acc.ids].sort()) {
        const root = this.find(k);
        mine.add(root);
        roots.add(root);
        const [kind, value] = [k.slice(0, 1), k.slice(2)];
        const list = kind === 'u' ? t.identity.user_ids : kind === 'e' ? t.identity.emails : kind === 'p' ? t.identity.phones : t.identity.anonymous_ids;
        list.push(value);
      }
      t.fragments = mine.size;
      const completed = [...acc.orders].filter(([, o]) => o.completedAt !== null && !o.cancelled);
      t.transactions.order_ids = completed.map(([id]) => id).sort();
      t.transactions.orders_count = completed.length;
      const times = completed.map(([, o]) => o.completedAt as number);
      t.transactions.first_purchase_at = times.length ? Math.min(...times) : null;
      t.transactions.last_purchase_at = times.length ? Math.max(...times) : null;
      t.support.tickets_count = acc.tickets.size;
      t.support.open_tickets = [...acc.tickets.values()].filter((s) => ['opened', 'updated', 'reopened'].includes(s.status)).length;
      t.support.last_csat = acc.csat?.value ?? null;
      t.consent = {};
      for (const p of CONSENT_PURPOSES) {
        const c = acc.consent.get(p);
        if (c) t.consent[p] = { granted: c.granted, at: c.at };
      }
      orders += t.transactions.orders_count;
      for (const [cur, n] of Object.entries(t.transactions.revenue_minor)) revenue[cur] = (revenue[cur] ?? 0) + n;
      per_customer.push(t);
    }
    const { records, valid, malformed, malformed_by_reason, duplicates, junk_events, junk_identifiers } = this.totals;
    return {
      customers: this.customers,
      active_customers: per_customer.length,
      expected_profiles: roots.size,
      records,
      valid,
      malformed,
      malformed_by_reason,
      duplicates,
      junk_events,
      junk_identifiers,
      orders_count: orders,
      revenue_minor: revenue,
      per_customer,
    };
  }

  private acc(index: number): Acc {
    let acc = this.accs.get(index);
    if (!acc) {
      const { country, archetype } = this.meta(index);
      acc = {
        t: {
          index,
          country,
          archetype,
          identity: { user_ids: [], emails: [], phones: [], anonymous_ids: [] },
          fragments: 0,
          events: perTopic(),
          activity: { first_seen_at: null, last_seen_at: null },
          transactions: { orders_count: 0, order_ids: [], revenue_minor: {}, first_purchase_at: null, last_purchase_at: null },
          support: { tickets_count: 0, open_tickets: 0, last_csat: null },
          consent: {},
        },
        ids: new Set(),
        orders: new Map(),
        tickets: new Map(),
        consent: new Map(),
      };
      this.accs.set(index, acc);
    }
    return acc;
  }

  private find(k: string): string {
    let root = k;
    for (let p = this.parent.get(root); p !== undefined && p !== root; p = this.parent.get(root)) root = p;
    for (let cur = k; cur !== root; ) {
      // path compression
      const next = this.parent.get(cur) as string;
      this.parent.set(cur, root);
      cur = next;
    }
    return root;
  }

  private union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    // biome-ignore lint/complexity/useMathMinMax: ids are strings (Math.min/max would coerce them to NaN)
    if (ra !== rb) this.parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  }
}
