// The RFM quintile query on embedded chDB: generated purchases (completed, refunded, cancelled orders, duplicates,
// three currencies) stored through the warehouse's own row mapping, and the quintiles compared with those of the
// customers' profiles as the profile fold builds them (foldEvents + profileView), ranked in this test; and predict's
// counted orders (the same definition, orders.ts) against the fold's order count and last purchase.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, test } from 'vitest';
import { openClickHouse, type ClickHouseClient } from '@profile-stream/clickhouse';
import { createLogger, REPO_ROOT } from '@profile-stream/consumer-kit';
import type { Purchase } from '@profile-stream/contracts';
import { purchase as purchaseEvent } from '@profile-stream/contracts/testing';
import { foldEvents, profileView, type ProfileDoc } from '@profile-stream/profile';
import { prng } from '@profile-stream/profile/testing';
import { migrate } from './migrations.ts';
import { piiStorer } from './pii.ts';
import { countedOrdersSql } from './orders.ts';
import { populationQuintiles, rfmQuintilesSql } from './rfm.ts';
import { purchaseRows, type RowOptions } from './rows.ts';
import { insertRows } from './sink.ts';

const DAY = 86_400_000;
const AS_OF = Date.UTC(2026, 0, 1);
const opts: RowOptions = { storePii: piiStorer('plain', 'k'.repeat(16)), defaultRegion: 'GB', blocklist: new Set(), now: AS_OF, maxFutureMs: DAY };
let client: ClickHouseClient;

beforeAll(async () => {
  client = openClickHouse({ dataDir: join(mkdtempSync(join(tmpdir(), 'ps-rfm-')), 'chdb') }).client;
});
afterAll(async () => {
  await client.close();
});

/** A shop's purchases: per customer some orders, some refunded in part, some cancelled, a few events sent twice. */
function generate(seed: number, customers: number): Purchase[] {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const out: Purchase[] = [];
  for (let c = 0; c < customers; c++) {
    const currencies = rnd() < 0.7 ? ['GBP'] : rnd() < 0.5 ? ['EUR'] : ['GBP', 'USD'];
    const orders = rnd() < 0.15 ? 0 : int(1, rnd() < 0.3 ? 12 : 3);
    const purchase = (order: string, status: Purchase['status'], at: number, total: number, currency: string): Purchase =>
      purchaseEvent({ event_id: `${order}-${status}`, occurred_at: at, user_id: `u${c}`, order_id: order, status, currency, total_minor: total });
    for (let o = 0; o < orders; o++) {
      const order = `c${c}-o${o}`;
      const at = AS_OF - int(1, 400) * DAY - int(0, DAY);
      const cur = currencies[int(0, currencies.length - 1)]!;
      const total = int(100, 50_000);
      out.push(purchase(order, 'completed', at, total, cur));
      if (rnd() < 0.1) out.push(purchase(order, 'completed', at, total, cur)); // a re-delivery: same event id
      if (rnd() < 0.15) out.push(purchase(order, 'refunded', at + DAY, int(1, total), cur));
      if (rnd() < 0.1) out.push(purchase(order, 'cancelled', at + 3600_000, total, cur));
    }
    // refunds of orders from before the data (more taken back than bought, for some)
    if (rnd() < 0.1) out.push(purchase(`c${c}-old`, 'refunded', AS_OF - int(1, 300) * DAY, int(100, 80_000), currencies[0]!));
  }
  return out;
}

/** A migrated database `database` holding `events` through the warehouse's own row mapping. */
async function load(database: string, events: Purchase[]): Promise<Purchase[]> {
  await migrate(client, { database, dir: resolve(REPO_ROOT, 'infra/clickhouse'), log: createLogger({ name: 'rfm-test', level: 'silent' }) });
  if (events.length > 0)
    await insertRows(
      client,
      `${database}.purchases`,
      events.flatMap((e) => purchaseRows(e, opts).purchases!),
    );
  return events;
}

/** The rank rule written out: the value at rank ⌈k·n/5⌉ of the values sorted worst to best. */
const quintiles = (values: number[], worstFirst: (a: number, b: number) => number) => {
  const s = [...values].sort(worstFirst);
  return [1, 2, 3, 4].map((k) => s[Math.ceil((k * s.length) / 5) - 1]!);
};

test('quintiles of recency, frequency and monetary per currency equal those of the folded profiles', async () => {
  const events = await load('rfm_q', generate(14, 400));

  // the profiles the fold builds, one per customer
  const byCustomer = new Map<string, Purchase[]>();
  for (const e of events) byCustomer.set(e.user_id!, [...(byCustomer.get(e.user_id!) ?? []), e]);
  const ages: number[] = [];
  const orders: number[] = [];
  const revenue = new Map<string, number[]>();
  for (const [user, list] of byCustomer) {
    const doc: ProfileDoc = foldEvents(list.map((event) => ({ topic: 'purchases', event, ids: { user_id: user, dropped: [] } })));
    const tx = (profileView(doc, { profile_id: user, merged_ids: [] }) as { transactions: Record<string, unknown> }).transactions;
    if (tx.orders_count === 0) continue;
    ages.push(AS_OF - Date.parse(tx.last_purchase_at as string));
    orders.push(tx.orders_count as number);
    for (const [cur, net] of Object.entries(tx.revenue_minor as Record<string, number>)) revenue.set(cur, [...(revenue.get(cur) ?? []), net]);
  }
  assert.ok(orders.length > 250 && orders.length < byCustomer.size, 'some customers have no counted order');

  const q = await populationQuintiles(client, 'rfm_q', AS_OF);
  assert.equal(q.customers, orders.length);
  assert.deepEqual(
    q.recencyAges,
    quintiles(ages, (a, b) => b - a),
  );
  assert.deepEqual(
    q.frequency,
    quintiles(orders, (a, b) => a - b),
  );
  assert.deepEqual(
    q.monetary,
    Object.fromEntries([...revenue].map(([cur, nets]) => [cur, { customers: nets.length, quintiles: quintiles(nets, (a, b) => a - b) }])),
  );
  assert.deepEqual(Object.keys(q.monetary).sort(), ['EUR', 'GBP', 'USD']);
  assert.ok(
    revenue.get('GBP')!.some((n) => n < 0),
    'refunds beyond purchases give negative net revenue',
  );
});

test('an empty warehouse: no customers, no quintiles; a bad as-of is refused', async () => {
  await load('rfm_empty', []);
  const q = await populationQuintiles(client, 'rfm_empty', AS_OF);
  assert.equal(q.customers, 0);
  assert.deepEqual(q.monetary, {});
  assert.throws(() => rfmQuintilesSql('rfm_empty', 1.5), /invalid_options|as of/);
});

test("predict's counted orders (countedOrdersSql) are the fold's: count and last purchase per customer, value = completed − refunded", async () => {
  const events = await load('rfm_orders', generate(15, 200));
  const rows = await (await client.query({ query: countedOrdersSql('rfm_orders', AS_OF), format: 'JSONEachRow' })).json<{
    customer_key: string;
    orders: [string | number, string | number, string][];
  }>();
  const got = new Map(rows.map((r) => [r.customer_key, r.orders.map(([at, net, cur]) => ({ at: Number(at), net: Number(net), cur }))]));

  const byCustomer = new Map<string, Purchase[]>();
  for (const e of events) byCustomer.set(e.user_id!, [...(byCustomer.get(e.user_id!) ?? []), e]);
  let counted = 0;
  for (const [user, list] of byCustomer) {
    const doc: ProfileDoc = foldEvents(list.map((event) => ({ topic: 'purchases', event, ids: { user_id: user, dropped: [] } })));
    const tx = (profileView(doc, { profile_id: user, merged_ids: [] }) as { transactions: Record<string, unknown> }).transactions;
    const mine = got.get(user) ?? [];
    assert.equal(mine.length, tx.orders_count, `${user}: orders`);
    if (mine.length === 0) continue;
    counted++;
    assert.equal(Math.max(...mine.map((o) => o.at)), Date.parse(tx.last_purchase_at as string), `${user}: last purchase`);
    // each counted order's time and value read from the events here: earliest completed, completed − refunded totals
    const unique = [...new Map(list.map((e) => [e.event_id, e])).values()];
    const expected = Object.values(Object.groupBy(unique, (e) => e.order_id))
      .filter((es) => es!.some((e) => e.status === 'completed') && !es!.some((e) => e.status === 'cancelled'))
      .map((es) => ({
        at: Math.min(...es!.filter((e) => e.status === 'completed').map((e) => e.occurred_at)),
        net: es!.reduce((n, e) => n + (e.status === 'completed' ? e.total_minor : -e.total_minor), 0),
        cur: es!.find((e) => e.status === 'completed')!.currency,
      }));
    const sorted = (xs: { at: number; net: number; cur: string }[]) => [...xs].sort((x, y) => x.at - y.at || x.net - y.net);
    assert.deepEqual(sorted(mine), sorted(expected), `${user}: orders`);
  }
  assert.ok(counted > 120 && counted < byCustomer.size, 'some customers have no counted order');
});
