// Account profiles (account.ts, store/accounts.ts) on the real Redis against an oracle computed straight from the events:
// any order, re-deliveries, contacts moving between accounts by newer and older claims, chunks of any size.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import type { Purchase, SupportTicket } from '@profile-stream/contracts';
import { accountView, type AccountView } from '../account.ts';
import type { ProfileDoc } from '../doc.ts';
import { eventFragment } from '../fold.ts';
import { join } from '../join.ts';
import type { NormalisedIds } from '../normalise.ts';
import { AccountStore } from './accounts.ts';
import { globEscape, scanKeys } from './scan.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let redis: Redis;
let prefix: string;
beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  prefix = `test:accounts:${randomUUID()}:`;
});
afterAll(async () => {
  const keys = await scanKeys(redis, `${globEscape(prefix)}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;
const NOW = T0 + 30 * DAY;
const ACCOUNTS = ['acct-A', 'acct-B', 'acct-C'] as const;
const CONTACTS = ['p1', 'p2', 'p3', 'p4'] as const;
const none = { anonymous_id: null, user_id: null, email: null, phone: null };
/** Contacts are given (no identity resolution here): fragments without identifiers. */
const NO_IDS = { dropped: [] } as unknown as NormalisedIds;

type Ev = { pid: string; topic: 'purchases'; event: Purchase } | { pid: string; topic: 'support-tickets'; event: SupportTicket };

const accountArb = fc.option(
  fc.record({
    account_id: fc.constantFrom(...ACCOUNTS),
    name: fc.option(fc.constantFrom('Acme', 'Acme Ltd', 'Globex'), { nil: null }),
    domain: fc.option(fc.constantFrom('acme.example', 'Globex.Example'), { nil: null }),
  }),
  { nil: null, freq: 3 },
);
const atArb = fc.integer({ min: -400, max: 20 }).map((d) => T0 + d * DAY);

const evArb: fc.Arbitrary<Omit<Ev, 'event'> & { event: Omit<Purchase, 'event_id'> | Omit<SupportTicket, 'event_id'> }> = fc.oneof(
  fc.record({
    pid: fc.constantFrom(...CONTACTS),
    topic: fc.constant('purchases' as const),
    event: fc.record({
      ...Object.fromEntries(Object.entries(none).map(([k, v]) => [k, fc.constant(v)])),
      occurred_at: atArb,
      account: accountArb,
      order_id: fc.constantFrom('o1', 'o2', 'o3'),
      status: fc.constantFrom('completed', 'completed', 'refunded', 'cancelled'),
      channel: fc.constant('web'),
      currency: fc.constantFrom('GBP', 'EUR'),
      total_minor: fc.integer({ min: 1, max: 10_000 }),
      items: fc.constant([]),
    }) as unknown as fc.Arbitrary<Omit<Purchase, 'event_id'>>,
  }),
  fc.record({
    pid: fc.constantFrom(...CONTACTS),
    topic: fc.constant('support-tickets' as const),
    event: fc.record({
      ...Object.fromEntries(Object.entries(none).map(([k, v]) => [k, fc.constant(v)])),
      occurred_at: atArb,
      account: accountArb,
      ticket_id: fc.constantFrom('k1', 'k2'),
      status: fc.constantFrom('opened', 'updated', 'resolved', 'closed', 'reopened'),
      channel: fc.constant('chat'),
      priority: fc.constantFrom('normal', 'urgent'),
      category: fc.constant(null),
      subject: fc.constant(null),
      satisfaction: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
    }) as unknown as fc.Arbitrary<Omit<SupportTicket, 'event_id'>>,
  }),
);

/** Distinct events (ids unique, order ids and ticket ids per contact), then a delivery: shuffled, some twice, in chunks. */
const scenarioArb = fc
  .array(evArb, { minLength: 1, maxLength: 40 })
  .map((evs) =>
    evs.map((e, i) => {
      const event = { ...e.event, event_id: `e${String(i).padStart(3, '0')}` } as Record<string, unknown>;
      if ('order_id' in event) event.order_id = `${e.pid}-${event.order_id}`;
      if ('ticket_id' in event) event.ticket_id = `${e.pid}-${event.ticket_id}`;
      return { ...e, event } as unknown as Ev;
    }),
  )
  .chain((evs) =>
    fc.tuple(
      fc.constant(evs),
      fc.shuffledSubarray([...evs, ...evs.filter((_, i) => i % 3 === 0)], { minLength: evs.length + Math.ceil(evs.length / 3) }),
      fc.integer({ min: 1, max: 8 }),
    ),
  );

const later = (a: { occurred_at: number; event_id: string }, b: { occurred_at: number; event_id: string }) =>
  a.occurred_at > b.occurred_at || (a.occurred_at === b.occurred_at && a.event_id > b.event_id);

/** The oracle: straight from the events, without fragments, joins or snapshots. */
function oracle(evs: readonly Ev[]): Map<string, Omit<AccountView, 'contacts'> & { contacts: string[] }> {
  const current = new Map<string, Ev>();
  for (const e of evs) {
    if (e.event.account === null) continue;
    const c = current.get(e.pid);
    if (c === undefined || later(e.event, c.event)) current.set(e.pid, e);
  }
  const out = new Map<string, Omit<AccountView, 'contacts'> & { contacts: string[] }>();
  for (const id of ACCOUNTS) {
    const members = CONTACTS.filter((p) => current.get(p)?.event.account?.account_id === id);
    if (members.length === 0) continue;
    const mine = evs.filter((e) => members.includes(e.pid as (typeof CONTACTS)[number]));
    const latestOf = <T extends Ev>(list: T[]) => list.reduce<T | undefined>((a, b) => (a === undefined || later(b.event, a.event) ? b : a), undefined);
    const named = (f: 'name' | 'domain') => {
      const withIt = mine.filter((e) => e.event.account?.account_id === id && e.event.account[f] !== null);
      const v = latestOf(withIt)?.event.account?.[f] ?? null;
      return f === 'domain' ? (v?.toLowerCase() ?? null) : v;
    };
    const revenue: Record<string, number> = {};
    const revenue365: Record<string, number> = {};
    const orders = new Map<string, Purchase[]>();
    for (const e of mine) if (e.topic === 'purchases') orders.set(e.event.order_id, [...(orders.get(e.event.order_id) ?? []), e.event]);
    let ordersCount = 0;
    let lastOrder: number | null = null;
    for (const [, list] of orders) {
      for (const p of list) revenue[p.currency] = (revenue[p.currency] ?? 0) + (p.status === 'completed' ? p.total_minor : -p.total_minor);
      const completed = list.filter((p) => p.status === 'completed');
      if (completed.length === 0 || list.some((p) => p.status === 'cancelled')) continue;
      ordersCount += 1;
      const at = Math.min(...completed.map((p) => p.occurred_at));
      lastOrder = Math.max(lastOrder ?? at, at);
      // the order's currency is the latest event's (LWW), its net the completed minus refunded amounts
      const cur = latestOf(list.map((event) => ({ event }) as Ev))!.event as Purchase;
      const net = completed.reduce((s, p) => s + p.total_minor, 0) - list.filter((p) => p.status === 'refunded').reduce((s, p) => s + p.total_minor, 0);
      if (at > NOW - 365 * DAY && at <= NOW) revenue365[cur.currency] = (revenue365[cur.currency] ?? 0) + net;
    }
    const tickets = new Map<string, SupportTicket>();
    for (const e of mine)
      if (e.topic === 'support-tickets')
        if (!tickets.has(e.event.ticket_id) || later(e.event, tickets.get(e.event.ticket_id)!)) tickets.set(e.event.ticket_id, e.event);
    const open = [...tickets.values()].filter((t) => ['opened', 'updated', 'reopened'].includes(t.status));
    const csats = members.flatMap((p) => {
      const rated = evs.filter((e): e is Ev & { topic: 'support-tickets' } => e.pid === p && e.topic === 'support-tickets' && e.event.satisfaction !== null);
      const l = latestOf(rated);
      return l ? [l.event.satisfaction!] : [];
    });
    const seen = mine.filter((e) => e.event.account?.account_id === id);
    out.set(id, {
      account_id: id,
      name: named('name'),
      domain: named('domain'),
      contacts: [...members].sort(),
      contacts_count: members.length,
      first_seen_at: Math.min(...seen.map((e) => e.event.occurred_at)),
      revenue_minor: revenue,
      revenue_365d_minor: revenue365,
      orders_count: ordersCount,
      last_order_at: lastOrder,
      open_tickets: open.length,
      open_urgent_tickets: open.filter((t) => t.priority === 'urgent').length,
      worst_csat: csats.length ? Math.min(...csats) : null,
      last_activity_at: Math.max(...mine.map((e) => e.event.occurred_at)),
    });
  }
  return out;
}

/** The stitcher's part, simulated per contact: fold (de-duplicated by event id), then the snapshot to the accounts. */
async function deliver(store: AccountStore, delivery: readonly Ev[], chunk: number): Promise<void> {
  const docs = new Map<string, { doc: ProfileDoc; version: number; seen: Set<string> }>();
  for (let i = 0; i < delivery.length; i += chunk) {
    const touched = new Set<string>();
    for (const e of delivery.slice(i, i + chunk)) {
      const p = docs.get(e.pid) ?? { doc: {}, version: 0, seen: new Set<string>() };
      docs.set(e.pid, p);
      if (p.seen.has(e.event.event_id)) continue;
      p.seen.add(e.event.event_id);
      p.doc = join(p.doc, eventFragment(e.topic, e.event as never, NO_IDS));
      p.version += 1;
      touched.add(e.pid);
    }
    const folds = [...touched].map((pid) => ({
      profileId: pid,
      version: docs.get(pid)!.version,
      doc: docs.get(pid)!.doc as Record<string, unknown>,
      mergedIds: [],
    }));
    await store.apply(folds, NOW);
  }
}

const normal = (v: AccountView | null) => v && { ...v, contacts: [...v.contacts].sort() };

describe('account profiles on the real Redis', () => {
  it('equal the oracle for any delivery order, re-deliveries and chunking (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ([evs, delivery, chunk]) => {
        const store = new AccountStore(redis, `${prefix}${randomUUID()}:`);
        await deliver(store, delivery, chunk);
        const expected = oracle(evs);
        for (const id of ACCOUNTS) assert.deepEqual(normal(await store.view(id, NOW)), expected.get(id) ?? null, id);
      }),
      { numRuns: 150 },
    );
  });

  it('a contact that moves is moved, not duplicated; an older claim of its former account does not move it back', async () => {
    const store = new AccountStore(redis, `${prefix}move:`);
    const p = (id: string, at: number, account: string): Ev => ({
      pid: 'p1',
      topic: 'purchases',
      event: {
        ...none,
        event_id: id,
        occurred_at: at,
        account: { account_id: account, name: null, domain: null },
        order_id: id,
        status: 'completed',
        channel: 'web',
        currency: 'GBP',
        total_minor: 100,
        items: [],
      },
    });
    await deliver(store, [p('e1', T0, 'acct-A'), p('e2', T0 + DAY, 'acct-B'), p('e0', T0 - DAY, 'acct-A')], 1);
    assert.equal(await store.view('acct-A', NOW), null);
    const b = await store.view('acct-B', NOW);
    assert.deepEqual(b?.contacts, ['p1']);
    assert.deepEqual(b?.revenue_minor, { GBP: 300 }, "the contact's whole revenue goes with it");
  });

  it('a merge: the merged profile leaves every account, the survivor carries the joined data', async () => {
    const store = new AccountStore(redis, `${prefix}merge:`);
    const acct = (id: string) => ({ account_id: id, name: null, domain: null });
    const a = eventFragment(
      'purchases',
      {
        ...none,
        event_id: 'a1',
        occurred_at: T0,
        account: acct('acct-A'),
        order_id: 'oa',
        status: 'completed',
        channel: 'web',
        currency: 'GBP',
        total_minor: 100,
        items: [],
      },
      NO_IDS,
    );
    const b = eventFragment(
      'purchases',
      {
        ...none,
        event_id: 'b1',
        occurred_at: T0 + DAY,
        account: acct('acct-B'),
        order_id: 'ob',
        status: 'completed',
        channel: 'web',
        currency: 'GBP',
        total_minor: 50,
        items: [],
      },
      NO_IDS,
    );
    await store.apply([{ profileId: 'pa', version: 1, doc: a as Record<string, unknown>, mergedIds: [] }], NOW);
    await store.apply([{ profileId: 'pb', version: 1, doc: b as Record<string, unknown>, mergedIds: [] }], NOW);
    await store.apply([{ profileId: 'pa', version: 3, doc: join(a, b) as Record<string, unknown>, mergedIds: ['pb'] }], NOW);
    assert.equal(await store.view('acct-A', NOW), null, 'the survivor moved to the newer claim (acct-B)');
    const v = await store.view('acct-B', NOW);
    assert.deepEqual(v?.contacts, ['pa']);
    assert.deepEqual(v?.revenue_minor, { GBP: 150 });
    // a re-delivered chunk: the same snapshot again changes nothing
    await store.apply([{ profileId: 'pa', version: 3, doc: join(a, b) as Record<string, unknown>, mergedIds: ['pb'] }], NOW);
    assert.deepEqual(accountView('acct-B', await store.contributions('acct-B'), NOW).contacts_count, 1);
  });
});
