// The batch sink on embedded chDB: batching by size and by time, de-duplication within and across batches (and
// so materialized views that never double), partial earlier inserts completed, ClickHouse faults → retriable,
// rows ClickHouse refuses → DLQ outcomes for those entries only, erasure.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, test } from 'vitest';
import { openClickHouse, type ClickHouseClient } from '@profile-stream/clickhouse';
import { createLogger, isRetriable, REPO_ROOT } from '@profile-stream/consumer-kit';
import type { Purchase } from '@profile-stream/contracts';
import { clickEvent } from '@profile-stream/contracts/testing';
import { migrate } from './migrations.ts';
import { identifierHash, piiStorer, tombstoner } from './pii.ts';
import { clickRows, profileRows, purchaseRows, type RowOptions } from './rows.ts';
import { BatchSink, type Entry } from './sink.ts';

const log = createLogger({ name: 'sink-test', level: 'silent' });
const KEY = 'sink-test-key-0123456789';
const storePii = piiStorer('hash', KEY);
const tombstoneOf = tombstoner('hash', KEY);
const o: RowOptions = { storePii, defaultRegion: 'GB', blocklist: new Set(), now: Date.UTC(2026, 5, 1), maxFutureMs: 86_400_000 };
let client: ClickHouseClient;
let db = '';
let n = 0;

beforeAll(() => {
  client = openClickHouse({ dataDir: join(mkdtempSync(join(tmpdir(), 'ps-sink-')), 'chdb') }).client;
});
afterAll(async () => {
  await client.close();
});

async function freshDb(): Promise<string> {
  db = `sink_${++n}`;
  await migrate(client, { database: db, dir: resolve(REPO_ROOT, 'infra/clickhouse'), log });
  return db;
}
const one = async <T = Record<string, unknown>>(query: string) => (await (await client.query({ query, format: 'JSONEachRow' })).json<T>())[0]!;
const count = async (table: string) => Number((await one<{ n: string }>(`SELECT count() AS n FROM ${db}.${table}`)).n);
const sink = (over: Partial<ConstructorParameters<typeof BatchSink>[0]> = {}) =>
  new BatchSink({ client, database: db, maxRows: 1000, maxMs: 20, log, tombstoneOf, ...over });

const purchase = (id: string, status: Purchase['status'], day: number, user = 'u-1'): Entry => ({
  rows: purchaseRows(
    {
      event_id: id,
      occurred_at: Date.UTC(2026, 4, day, 12),
      anonymous_id: null,
      account: null,
      user_id: user,
      email: null,
      phone: null,
      order_id: `o-${id}`,
      status,
      channel: 'web',
      currency: 'GBP',
      total_minor: 700,
      items: [
        { sku: 'a', category: 'shoes', quantity: 1, unit_price_minor: 300 },
        { sku: 'b', category: 'hats', quantity: 2, unit_price_minor: 200 },
      ],
    },
    o,
  ),
});

test('duplicates within a batch and replays of whole batches insert nothing twice; aggregates do not double', async () => {
  await freshDb();
  const s = sink();
  const batch = [purchase('e1', 'completed', 1), purchase('e2', 'completed', 2), purchase('e1', 'completed', 1), purchase('e3', 'refunded', 2)];
  assert.deepEqual(
    (await s.write(batch)).map((x) => x.kind),
    ['ok', 'ok', 'ok', 'ok'],
  );
  await s.write(batch); // a replay
  await Promise.all([s.write(batch.slice(0, 2)), s.write(batch.slice(2))]); // and one split over two concurrent chunks
  assert.equal(await count('purchases'), 3);
  assert.equal(await count('purchase_items'), 6);
  const agg = await one<{ net: string; units: string }>(`SELECT sum(net_minor) AS net, sum(units) AS units FROM ${db}.daily_revenue`);
  assert.deepEqual([Number(agg.net), Number(agg.units)], [700, 3]); // 700 + 700 − 700; 3 + 3 − 3 units
  const orders = await one<{ c: string }>(`SELECT sum(completed) AS c FROM ${db}.daily_orders`);
  assert.equal(Number(orders.c), 2);
});

test('an earlier insert that stopped half-way (order stored, lines not) is completed by the replay, lines once', async () => {
  await freshDb();
  const e = purchase('h1', 'completed', 3) as { rows: { purchases: object[] } };
  await client.insert({ table: `${db}.purchases`, values: e.rows.purchases, format: 'JSONEachRow' });
  await sink().write([e as Entry]);
  assert.equal(await count('purchases'), 1);
  assert.equal(await count('purchase_items'), 2);
  assert.equal(Number((await one<{ g: string }>(`SELECT sum(gross_minor) AS g FROM ${db}.daily_revenue`)).g), 700);
});

test('rows wait for the batch: a size trigger flushes at once, a time trigger after WAREHOUSE_BATCH_MS', async () => {
  await freshDb();
  const bySize = sink({ maxRows: 6, maxMs: 600_000 });
  const first = bySize.write([purchase('s1', 'completed', 1)]); // 3 rows: below the size, and the timer is 10 minutes
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(await count('purchases'), 0, 'nothing inserted before the batch is full');
  await Promise.all([first, bySize.write([purchase('s2', 'completed', 1)])]); // 6 rows: flushed
  assert.equal(await count('purchases'), 2);
  const byTime = sink({ maxRows: 1_000_000, maxMs: 300 });
  const pending = byTime.write([purchase('t1', 'completed', 1)]);
  assert.equal(await count('purchases'), 2);
  await pending;
  assert.equal(await count('purchases'), 3);
});

test('ClickHouse failing: every waiter gets a retriable error and nothing is half-counted; the retry stores everything once', async () => {
  await freshDb();
  let failures = 2;
  const flaky = new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'insert') {
        return async (params: Parameters<ClickHouseClient['insert']>[0]) => {
          if (String(params.table).endsWith('purchase_items') && failures-- > 0) throw new Error('connect ECONNREFUSED 127.0.0.1:8123 (injected)');
          return target.insert(params);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
  const s = new BatchSink({ client: flaky, database: db, maxRows: 1000, maxMs: 10, log, tombstoneOf });
  const batch = [purchase('f1', 'completed', 1), purchase('f2', 'cancelled', 1)];
  for (let attempt = 0; attempt < 2; attempt++) {
    await assert.rejects(s.write(batch), (err: unknown) => isRetriable(err) && (err as { code: string }).code === 'clickhouse_unavailable');
  }
  await s.write(batch);
  assert.equal(await count('purchases'), 2);
  assert.equal(await count('purchase_items'), 4);
  const agg = await one<{ g: string; r: string }>(`SELECT sum(gross_minor) AS g, sum(refunded_minor) AS r FROM ${db}.daily_revenue`);
  assert.deepEqual([Number(agg.g), Number(agg.r)], [700, 700]);
});

test('a row ClickHouse refuses only sends its own entry to the DLQ', async () => {
  await freshDb();
  const bad: Entry = {
    rows: { purchases: [{ ...(purchase('b1', 'completed', 1) as { rows: { purchases: object[] } }).rows.purchases[0], total_minor: 'not a number' }] },
  };
  const out = await sink().write([purchase('g1', 'completed', 1), bad, purchase('g2', 'completed', 1)]);
  assert.deepEqual(
    out.map((x) => x.kind),
    ['ok', 'dlq', 'ok'],
  );
  assert.equal(out[1]!.kind === 'dlq' && out[1]!.reason, 'clickhouse_rejected');
  assert.equal(await count('purchases'), 2);
});

/** A page view's rows, of the identifiers given. */
const click = (id: string, ids: { user_id?: string; email?: string; anonymous_id?: string }, at = Date.UTC(2026, 4, 2)): Entry => ({
  rows: clickRows(clickEvent({ event_id: id, occurred_at: at, ...ids }), o),
});

test("erasure removes every row carrying the profile's identifiers, its snapshot and its membership", async () => {
  await freshDb();
  const s = sink();
  const email = 'Erase.Me@example.com';
  const snapshot: Entry = {
    rows: profileRows(
      {
        event_id: 'P9:v1',
        profile_id: 'P9',
        profile_version: 1,
        cause: 'event',
        trigger_event_id: null,
        source_topic: null,
        changed_sections: [],
        occurred_at: Date.UTC(2026, 4, 2),
        emitted_at: Date.UTC(2026, 4, 2),
        profile_json: JSON.stringify({ identity: { user_ids: ['u-erase'], emails: ['erase.me@example.com'], phones: [], anonymous_ids: ['anon-erase'] } }),
      },
      o,
    )!,
  };
  await s.write([
    click('k1', { anonymous_id: 'anon-erase' }),
    click('k2', { email }),
    purchase('k3', 'completed', 2, 'u-erase'),
    click('k4', { user_id: 'u-keep' }),
    snapshot,
  ]);
  await s.write([
    {
      erase: {
        event_id: 'x1',
        profile_id: 'P9',
        merged_ids: [],
        identifier_hashes: [identifierHash(KEY, 'email', 'erase.me@example.com')],
        requested_by: null,
        reason: 'gdpr',
        occurred_at: Date.UTC(2026, 4, 3),
        emitted_at: Date.UTC(2026, 4, 3),
      },
    },
  ]);
  assert.equal(await count('clickstream_events'), 1, "only the other customer's click remains");
  assert.equal(await count('purchases'), 0);
  assert.equal(await count('purchase_items'), 0);
  assert.equal(await count('profiles'), 0);
  assert.equal(await count('erasures'), 1);
  // tombstones: late arrivals (events that occurred before the erasure) with any identifier of the erased profile are
  // not stored (also after a restart); an event after the erasure belongs to a new profile and is stored
  const after = Date.UTC(2026, 4, 3, 0, 0, 1);
  for (const [i, later] of [sink(), sink()].entries()) {
    const out = await later.write([
      click('k5', { email: ' ERASE.me@example.com' }),
      click('k6', { anonymous_id: 'anon-erase', user_id: 'u-new' }),
      click('k7', { user_id: 'u-keep' }),
      click(`k8-${i}`, { email: 'erase.me@example.com' }, after),
      click(`k9-${i}`, { email: 'erase.me@example.com' }, Date.UTC(2026, 4, 3) - 1),
    ]);
    assert.deepEqual(
      out.map((x) => (x.kind === 'drop' ? x.reason : x.kind)),
      ['erased', 'erased', 'ok', 'ok', 'erased'],
    );
  }
  assert.equal(await count('clickstream_events'), 4, 'the other customer twice, and the two events after the erasure');
});

test('erasure by identifier hashes alone (no snapshot stored) still finds the raw rows', async () => {
  await freshDb();
  const s = sink();
  await s.write([click('h1', { user_id: 'u-gone' }), click('h2', { anonymous_id: 'dev-gone' }), click('h3', { user_id: 'u-stays' })]);
  const hashes = [identifierHash(KEY, 'user_id', 'u-gone'), identifierHash(KEY, 'anonymous_id', 'dev-gone')];
  await s.write([
    {
      erase: {
        event_id: 'x2',
        profile_id: 'P-none',
        merged_ids: [],
        identifier_hashes: hashes,
        requested_by: null,
        reason: null,
        occurred_at: Date.UTC(2026, 4, 3),
        emitted_at: Date.UTC(2026, 4, 3),
      },
    },
  ]);
  assert.deepEqual(await (await client.query({ query: `SELECT user_id FROM ${db}.clickstream_events`, format: 'JSONEachRow' })).json(), [
    { user_id: 'u-stays' },
  ]);
});
