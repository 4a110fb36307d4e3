// B2B accounts (issue 15). Two levels:
//
// 1. The contact's `account` section of the profile document (rules.ts): the account id the contact acts for is a
//    last-writer-wins cell by (occurred_at, event_id) — an event naming another account with an older timestamp than
//    the contact's current one loses (it is folded, and it is in the history, but it does not move the contact: a late
//    or replayed event cannot undo a move). `seen` keeps when each account was first named (the current one's `since`),
//    names and domains are LWW per account id and only events that know them state them.
//
// 2. The account profile: what each contact contributes to its current account (contactContribution, a pure function
//    of the contact's folded document) and the account as the sum of its contacts' contributions (accountView). The
//    contribution is a snapshot, not a delta: applying it again changes nothing (idempotent), and because the contact's
//    document is order-independent, so is the account. store/accounts.ts keeps the snapshots in Redis, one hash per
//    account (its own hash-tagged slot); a contact that moves leaves every other account it was seen with.
import type { Cell, ProfileDoc } from './doc.ts';
import { cell, cmpStr, own, put } from './doc.ts';
import { purchaseTimeline } from './view.ts';

/** What producers put on events (the `account` union of ClickEvent, Purchase and SupportTicket). */
export interface EventAccount {
  readonly account_id: string;
  readonly name: string | null;
  readonly domain: string | null;
}

export type AccountSection = NonNullable<ProfileDoc['account']>;

/** Longest account id kept; longer ids are producer bugs and are not folded (the rest of the event is). */
export const MAX_ACCOUNT_ID_LENGTH = 128;

const text = (v: string | null | undefined): string | undefined => {
  const s = v?.trim();
  return s ? s : undefined;
};

/** The account section one event contributes, or undefined when it names no (usable) account. */
export function accountFragment(account: EventAccount | null | undefined, t: number, eventId: string): AccountSection | undefined {
  const id = text(account?.account_id);
  if (account == null || id === undefined || id.length > MAX_ACCOUNT_ID_LENGTH) return undefined;
  const out: AccountSection = { id: cell(id, t, eventId), seen: {} };
  put(out.seen!, id, t);
  const name = text(account.name);
  const domain = text(account.domain)?.toLowerCase();
  if (name !== undefined) {
    out.names = {};
    put(out.names, id, cell(name, t, eventId));
  }
  if (domain !== undefined) {
    out.domains = {};
    put(out.domains, id, cell(domain, t, eventId));
  }
  return out;
}

export interface ContactAccount {
  account_id: string;
  name: string | null;
  domain: string | null;
  /** First event naming this account for the contact (epoch ms). */
  since: number;
  /** The cell that made it current: (occurred_at, event_id). */
  t: number;
  id: string;
}

/** The contact's current account, or null. */
export function contactAccount(doc: ProfileDoc): ContactAccount | null {
  const a = doc.account;
  const current = a?.id;
  if (current === undefined) return null;
  const accountId = current.v;
  return {
    account_id: accountId,
    name: own(a?.names ?? {}, accountId)?.v ?? null,
    domain: own(a?.domains ?? {}, accountId)?.v ?? null,
    since: own(a?.seen ?? {}, accountId) ?? current.t,
    t: current.t,
    id: current.id,
  };
}

/** Every account the contact was ever seen with except the current one: it must not be counted there. */
export function formerAccounts(doc: ProfileDoc): string[] {
  const current = doc.account?.id?.v;
  return Object.keys(doc.account?.seen ?? {})
    .filter((id) => id !== current)
    .sort(cmpStr);
}

/** Orders kept per contact for the windowed revenue of its account (the latest ones). */
export const CONTRIBUTION_ORDERS = 200;
const OPEN: ReadonlySet<string> = new Set(['opened', 'updated', 'reopened']);

/** What one contact adds to its account: a snapshot of its profile (JSON, stored per contact in the account's hash). */
export interface Contribution {
  pid: string;
  /** Profile version of the snapshot: an older snapshot never replaces a newer one. */
  version: number;
  /** The contact's account cell: a contact leaves an account only for a newer cell. */
  t: number;
  id: string;
  since: number;
  name: Cell<string> | null;
  domain: Cell<string> | null;
  revenue_minor: { [currency: string]: number };
  /** [completed_at, currency, net minor] of the latest completed orders. */
  orders: [number, string, number][];
  orders_count: number;
  last_order_at: number | null;
  open_tickets: number;
  open_urgent_tickets: number;
  /** The contact's latest CSAT score. */
  last_csat: number | null;
  last_activity_at: number | null;
}

export function contactContribution(pid: string, version: number, doc: ProfileDoc): Contribution | null {
  const a = contactAccount(doc);
  if (a === null) return null;
  const timeline = purchaseTimeline(doc);
  const tickets = Object.values(doc.support?.tickets ?? {}).filter((t) => t.status !== undefined && OPEN.has(t.status.v));
  const names = doc.account?.names ?? {};
  const domains = doc.account?.domains ?? {};
  return {
    pid,
    version,
    t: a.t,
    id: a.id,
    since: a.since,
    name: own(names, a.account_id) ?? null,
    domain: own(domains, a.account_id) ?? null,
    revenue_minor: { ...(doc.transactions?.revenue_minor ?? {}) },
    orders: timeline.slice(-CONTRIBUTION_ORDERS).map((p) => [p.at, p.currency, p.total_minor - p.refunded_minor]),
    orders_count: timeline.length,
    last_order_at: timeline.at(-1)?.at ?? null,
    open_tickets: tickets.length,
    open_urgent_tickets: tickets.filter((t) => t.priority?.v === 'urgent').length,
    last_csat: doc.support?.last_csat?.v ?? null,
    last_activity_at: doc.activity?.last_seen_at ?? null,
  };
}

/** Contacts listed in the account view (the most recently active); contacts_count counts them all. */
export const ACCOUNT_VIEW_CONTACTS = 100;
const DAY = 86_400_000;

const later = (a: Cell<string> | null, b: Cell<string> | null): Cell<string> | null =>
  a === null ? b : b === null ? a : a.t > b.t || (a.t === b.t && cmpStr(a.id, b.id) > 0) ? a : b;

export interface AccountView {
  account_id: string;
  name: string | null;
  domain: string | null;
  contacts: string[];
  contacts_count: number;
  first_seen_at: number | null;
  revenue_minor: { [currency: string]: number };
  /** Net revenue of orders completed in the 365 days before `now`. */
  revenue_365d_minor: { [currency: string]: number };
  orders_count: number;
  last_order_at: number | null;
  open_tickets: number;
  open_urgent_tickets: number;
  /** The lowest of the contacts' latest CSAT scores. */
  worst_csat: number | null;
  last_activity_at: number | null;
}

/** The account profile: the sum of its contacts' contributions (pure; the same whatever the order of contacts). */
export function accountView(accountId: string, contributions: readonly Contribution[], now: number): AccountView {
  const v: AccountView = {
    account_id: accountId,
    name: null,
    domain: null,
    contacts: [],
    contacts_count: contributions.length,
    first_seen_at: null,
    revenue_minor: {},
    revenue_365d_minor: {},
    orders_count: 0,
    last_order_at: null,
    open_tickets: 0,
    open_urgent_tickets: 0,
    worst_csat: null,
    last_activity_at: null,
  };
  const min = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
  const max = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
  let name: Cell<string> | null = null;
  let domain: Cell<string> | null = null;
  for (const c of contributions) {
    name = later(name, c.name);
    domain = later(domain, c.domain);
    v.first_seen_at = min(v.first_seen_at, c.since);
    for (const [cur, n] of Object.entries(c.revenue_minor)) put(v.revenue_minor, cur, (own(v.revenue_minor, cur) ?? 0) + n);
    for (const [at, cur, n] of c.orders) if (at > now - 365 * DAY && at <= now) put(v.revenue_365d_minor, cur, (own(v.revenue_365d_minor, cur) ?? 0) + n);
    v.orders_count += c.orders_count;
    v.last_order_at = max(v.last_order_at, c.last_order_at);
    v.open_tickets += c.open_tickets;
    v.open_urgent_tickets += c.open_urgent_tickets;
    v.worst_csat = min(v.worst_csat, c.last_csat);
    v.last_activity_at = max(v.last_activity_at, c.last_activity_at);
  }
  v.name = name?.v ?? null;
  v.domain = domain?.v ?? null;
  v.contacts = [...contributions]
    .sort((a, b) => (b.last_activity_at ?? 0) - (a.last_activity_at ?? 0) || cmpStr(a.pid, b.pid))
    .slice(0, ACCOUNT_VIEW_CONTACTS)
    .map((c) => c.pid);
  return v;
}

/** The account profile as the API and CLI show it: times as ISO strings, null when unknown. */
export function accountJson(v: AccountView): Record<string, unknown> {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return { ...v, first_seen_at: iso(v.first_seen_at), last_order_at: iso(v.last_order_at), last_activity_at: iso(v.last_activity_at) };
}
