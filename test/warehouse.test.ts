/**
 * The warehouse as a real process on the real stack (Kafka, registry, embedded chDB): counts and sums equal the
 * generator's ground truth, bad records go to the DLQ with a reason, daily aggregates equal the same aggregates
 * computed from raw rows, the ten analyst queries answer correctly through `profile-stream sql`, a replay from
 * offset 0 changes nothing, erasure leaves no row with the profile's identifiers; start-up fails fast on bad
 * config and on a failing migration.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, test } from 'vitest';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createProducer } from '@profile-stream/consumer-kit';
import { generate, groundTruth, isJunk, type GeneratedRecord, type GroundTruth, type ValidRecord } from '@profile-stream/generator';
import { ANALYST_QUERIES, analystSql, identifierHash } from '@profile-stream/warehouse';
import { runCli, testEnv, type TestEnv } from './support/index.ts';
import { produceRecords, startService, stopService, waitCommitted, type ServiceProcess } from './support/pipeline.ts';
import { freePort, publishErasure, rawVsAggregates, tableCounts, unframedIn, WAREHOUSE_INPUTS } from './support/warehouse.ts';

const DAY = 86_400_000;
const KEY = 'warehouse-test-key-0123456789';
let env: TestEnv;
let records: GeneratedRecord[];
let truth: GroundTruth;
let dataDir: string;
let port: number;
let ch: ClickHouseClient;
let wh: ServiceProcess | undefined;
const start = Math.floor((Date.now() - 20 * DAY) / DAY) * DAY;
const gen = { seed: 606, customers: 70, days: 14, start, junkRate: 0.03, malformedRate: 0.01, duplicateRate: 0.02 };
const valid = () => {
  const seen = new Set<string>();
  return records.filter((r): r is ValidRecord => !('malformed' in r) && !seen.has(r.value.event_id) && Boolean(seen.add(r.value.event_id)));
};

function warehouseEnv(group: string, over: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...env.childEnv,
    WAREHOUSE_GROUP_ID: `${env.prefix}${group}`,
    WAREHOUSE_DATA_DIR: dataDir,
    WAREHOUSE_OPS_PORT: String(port),
    WAREHOUSE_BATCH_ROWS: '700',
    WAREHOUSE_BATCH_MS: '200',
    WAREHOUSE_CHUNK_SIZE: '300',
    PII_HASH_KEY: KEY,
    ...over,
  };
}

async function runUntilCommitted(group: string): Promise<void> {
  wh = startService(warehouseEnv(group), 'warehouse');
  for (const id of WAREHOUSE_INPUTS) await waitCommitted(env.kafka, `${env.prefix}${group}`, env.topics[id].topic);
}

const q = async <T = Record<string, unknown>>(sql: string) => (await ch.query({ query: sql, format: 'JSONEachRow' })).json<T>();
const num = (v: unknown) => Number(v);

beforeAll(async () => {
  env = await testEnv('wh');
  dataDir = mkdtempSync(join(tmpdir(), 'ps-wh-'));
  port = await freePort();
  records = [...generate(gen)];
  truth = groundTruth(gen);
  await produceRecords(env, records);
  ch = createClient({ url: `http://127.0.0.1:${port}` });
});
afterAll(async () => {
  if (wh) await stopService(wh);
  await ch.close();
});

test("counts and sums in ClickHouse equal the generator's ground truth; bad records go to the DLQ with a reason", async () => {
  // two records ClickHouse-side checks refuse (valid Avro, values out of bounds): DLQ, never a blocked batch
  const base = valid().find((r) => r.topic === 'clickstream')!.value;
  const p = valid().find((r) => r.topic === 'purchases')!.value;
  const producer = createProducer(env.kafka);
  await producer.connect();
  await producer.send({
    topic: env.topics.clickstream.topic,
    acks: -1,
    messages: [
      {
        key: 'x',
        value: await env.registry.encode(env.topics.clickstream.topic, {
          ...base,
          event_id: 'too-long-url',
          page: { url: `https://x/${'a'.repeat(20_000)}`, referrer: null, title: null },
        }),
      },
    ],
  });
  await producer.send({
    topic: env.topics.purchases.topic,
    acks: -1,
    messages: [
      {
        key: 'x',
        value: await env.registry.encode(env.topics.purchases.topic, {
          ...p,
          event_id: 'huge-quantity',
          items: [{ sku: 's', category: null, quantity: 2_000_000_000, unit_price_minor: 2 ** 40 }],
        }),
      },
    ],
  });
  await producer.disconnect();

  await runUntilCommitted('wh');
  const counts = await tableCounts(ch);
  assert.equal(counts.clickstream_events, truth.valid.clickstream);
  assert.equal(counts.purchases, truth.valid.purchases);
  assert.equal(counts.support_tickets, truth.valid['support-tickets']);
  const lines = valid().reduce((n, r) => n + (r.topic === 'purchases' ? r.value.items.length : 0), 0);
  assert.equal(counts.purchase_items, lines);
  const revenue = Object.fromEntries(
    (await q<{ currency: string; net: string }>('SELECT currency, sum(signed_total_minor) AS net FROM purchases GROUP BY currency')).map((r) => [
      r.currency,
      num(r.net),
    ]),
  );
  assert.deepEqual(revenue, truth.revenue_minor);
  const [orders] = await q<{ n: string }>(
    "SELECT uniqExactIf(order_id, status = 'completed') - uniqExactIf(order_id, status = 'cancelled') AS n FROM purchases",
  );
  assert.equal(num(orders!.n), truth.orders_count);

  let reasons = '';
  for (const id of ['clickstream', 'purchases', 'support-tickets'] as const) {
    const r = runCli(['dlq', 'list', id, '--json'], { env: env.childEnv });
    reasons += r.stdout;
    assert.equal(r.status, 0, r.stderr);
    const dead = r.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { reason: string; service: string; message: string; source: string });
    const mine = dead.filter((d) => d.service === 'warehouse');
    const extra = id === 'support-tickets' ? 0 : 1;
    // At least once: a chunk handled again after a rebalance sends its dead letters again, with the same source
    // coordinates and reason; a batch the producer wrote twice holds its malformed records twice. Every bad record
    // in the log is there once by its coordinates, and nothing else is.
    const bySource = new Map<string, Set<string>>();
    for (const d of mine) bySource.set(d.source, (bySource.get(d.source) ?? new Set()).add(d.reason));
    const malformed = await unframedIn(env.kafka, env.prefix, env.topics[id].topic);
    assert.ok(malformed >= truth.malformed[id], `${id}: the log holds every malformed record the generator made`);
    assert.equal(bySource.size, malformed + extra, `${id}: ${JSON.stringify(mine.map((d) => `${d.source} ${d.reason}`))}\n${wh?.stderr() ?? ''}`);
    for (const [source, rs] of bySource) assert.equal(rs.size, 1, `${id}: ${source} dead-lettered with different reasons ${[...rs].join(', ')}`);
    assert.ok(
      mine.every((d) => d.reason && d.message),
      'every dead letter has a reason and a message',
    );
  }
  assert.match(reasons, /"reason":"value_too_long"/);
  assert.match(reasons, /"reason":"value_out_of_range"/);
});

test('daily aggregates (materialized views) equal the same aggregates computed from raw rows', async () => {
  for (const [name, [agg, raw]] of Object.entries(rawVsAggregates)) assert.deepEqual(await q(agg), await q(raw), name);
});

test('segment membership changes, merges and profile snapshots land; segment sizes follow entered − exited', async () => {
  const producer = createProducer(env.kafka);
  await producer.connect();
  const t0 = start + 3 * DAY;
  const changes = [
    ['p1', 'loyal', 'entered', 0],
    ['p2', 'loyal', 'entered', 0],
    ['p3', 'loyal', 'entered', 1],
    ['p1', 'loyal', 'exited', 2],
    ['p2', 'dormant', 'entered', 2],
  ] as const;
  const topic = env.topics['segment-membership-changed'].topic;
  const messages = await Promise.all(
    changes.map(async ([pid, seg, change, d], i) => ({
      key: pid,
      value: await env.registry.encode(topic, {
        event_id: `${pid}:${seg}:${i}`,
        profile_id: pid,
        segment_id: seg,
        segment_version: 1,
        change,
        reason: change === 'entered' ? 'rule_matched' : 'rule_unmatched',
        membership_version: i + 1,
        occurred_at: t0 + d * DAY,
        emitted_at: t0 + d * DAY,
        trigger_event_id: null,
        traits: {},
      }),
    })),
  );
  await producer.send({ topic, acks: -1, messages: [...messages, messages[0]!] }); // and one duplicate
  const merged = env.topics['profile-merged'].topic;
  await producer.send({
    topic: merged,
    acks: -1,
    messages: [
      {
        key: 'p1',
        value: await env.registry.encode(merged, {
          event_id: 'm1',
          profile_id: 'p1',
          merged_profile_id: 'p9',
          outcome: 'merged',
          matched_on: 'email',
          reason: null,
          trigger_event_id: null,
          occurred_at: t0,
          emitted_at: t0,
        }),
      },
    ],
  });
  await producer.disconnect();
  await waitCommitted(env.kafka, `${env.prefix}wh`, topic);
  await waitCommitted(env.kafka, `${env.prefix}wh`, merged);
  const growth = ANALYST_QUERIES.find((x) => x.id === 'segment_growth')!;
  const rows = JSON.parse(runCli(['sql', growth.sql, '--format', 'json'], { env: warehouseEnv('wh') }).stdout) as { segment_id: string; size: string }[];
  assert.deepEqual(
    rows.map((r) => [r.segment_id, num(r.size)]),
    [
      ['dormant', 1],
      ['loyal', 2],
      ['loyal', 3],
      ['loyal', 2],
    ],
  );
  assert.deepEqual(await q('SELECT profile_id, merged_profile_id, outcome FROM identity_merges'), [
    { profile_id: 'p1', merged_profile_id: 'p9', outcome: 'merged' },
  ]);
});

test('the ten analyst queries answer through `profile-stream sql` and agree with the generated data', async () => {
  const events = valid();
  const purchases = events.flatMap((r) => (r.topic === 'purchases' ? [r.value] : []));
  const clicks = events.flatMap((r) => (r.topic === 'clickstream' ? [r.value] : []));
  const tickets = events.flatMap((r) => (r.topic === 'support-tickets' ? [r.value] : []));
  const customer = purchases.find((p) => !isJunk(p.user_id))!.user_id!.trim();
  const run = (id: string) => {
    const query = ANALYST_QUERIES.find((x) => x.id === id)!;
    const r = runCli(['sql', analystSql(query, { customer }), '--format', 'json'], { env: warehouseEnv('wh') });
    assert.equal(r.status, 0, `${id}: ${r.stderr}`);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.ok(rows.length > 0, `${id} returned no rows`);
    return rows;
  };
  const day = (t: number) => new Date(t).toISOString().slice(0, 10);
  const sign = (s: string) => (s === 'completed' ? 1 : -1);

  const revenue = new Map<string, number>();
  for (const p of purchases)
    for (const it of p.items) {
      const k = [day(p.occurred_at), p.channel, it.category ?? '', p.currency].join('|');
      revenue.set(k, (revenue.get(k) ?? 0) + sign(p.status) * it.quantity * it.unit_price_minor);
    }
  assert.deepEqual(
    new Map(run('revenue_by_channel_category_day').map((r) => [[r.day, r.channel, r.category, r.currency].join('|'), num(r.net_minor)])),
    revenue,
  );

  const byCurrency: Record<string, number> = {};
  for (const r of run('net_revenue_by_currency_month')) byCurrency[r.currency as string] = (byCurrency[r.currency as string] ?? 0) + num(r.net_minor);
  assert.deepEqual(byCurrency, truth.revenue_minor);

  const active = run('active_customers_by_device');
  assert.equal(
    active.reduce((n, r) => n + num(r.events), 0),
    clicks.length,
  );
  assert.deepEqual(
    active.map((r) => num(r.active_customers)),
    (
      await q<{ n: string }>(
        'SELECT uniqExact(customer_key) AS n FROM clickstream_events GROUP BY toDate(occurred_at) AS day, device_type ORDER BY day, device_type',
      )
    ).map((r) => num(r.n)),
  );

  const support = run('support_load_and_csat');
  assert.equal(
    support.reduce((n, r) => n + num(r.ticket_events), 0),
    tickets.length,
  );
  assert.equal(
    support.reduce((n, r) => n + num(r.rated), 0),
    tickets.filter((t) => t.satisfaction !== null).length,
  );

  run('segment_growth');

  const rfm = run('rfm_distribution');
  const [buyers] = await q<{ n: string }>("SELECT uniqExactIf(customer_key, status = 'completed') AS n FROM purchases");
  assert.equal(
    rfm.reduce((n, r) => n + num(r.customers), 0),
    num(buyers!.n),
  );

  const history = run('customer_history');
  const mine = events.filter((r) => !isJunk(r.value.user_id) && r.value.user_id!.trim() === customer);
  assert.equal(history.length, mine.length);

  const funnel = run('conversion_funnel');
  const [keys] = await q<{ n: string }>('SELECT uniqExact(customer_key) AS n FROM clickstream_events');
  assert.equal(
    funnel.reduce((n, r) => n + num(r.customers), 0),
    num(keys!.n),
  );

  const views = new Map<string, number>();
  for (const c of clicks) if (c.type === 'product_view') views.set(c.product?.category ?? '', (views.get(c.product?.category ?? '') ?? 0) + 1);
  for (const r of run('top_categories_viewed')) assert.equal(num(r.views), views.get((r.category as string | null) ?? ''), String(r.category));

  const perChannel = new Map<string, [number, number, number]>();
  for (const p of purchases) {
    const c = perChannel.get(p.channel) ?? [0, 0, 0];
    c[p.status === 'completed' ? 0 : p.status === 'refunded' ? 1 : 2] += 1;
    perChannel.set(p.channel, c);
  }
  assert.deepEqual(new Map(run('refund_rate_by_channel').map((r) => [r.channel as string, [num(r.orders), num(r.refunds), num(r.cancellations)]])), perChannel);
});

test('`sql` refuses statements that write', () => {
  const r = runCli(['sql', 'DROP TABLE purchases'], { env: warehouseEnv('wh') });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /not_read_only/);
});

test('a replay from offset 0 (a new consumer group on the same data) changes no count and no aggregate', async () => {
  const before = { counts: await tableCounts(ch), aggregates: await Promise.all(Object.values(rawVsAggregates).map(([agg]) => q(agg))) };
  await stopService(wh!);
  await runUntilCommitted('wh-replay');
  assert.deepEqual({ counts: await tableCounts(ch), aggregates: await Promise.all(Object.values(rawVsAggregates).map(([agg]) => q(agg))) }, before);
});

test("erasure: no row with the profile's identifiers remains, other customers stay", async () => {
  const c = truth.per_customer.find((x) => x.identity.user_ids.length && x.identity.emails.length && x.events.purchases > 0)!;
  const ids = c.identity;
  const hashed = (type: 'email' | 'phone', v: string) => identifierHash(KEY, type, v);
  const erased = env.topics['profile-erased'].topic;
  await publishErasure(env, {
    profileId: 'PX',
    identity: ids,
    identifierHashes: [...ids.emails.map((e) => hashed('email', e)), ...ids.phones.map((p) => hashed('phone', p))],
  });
  const before = await tableCounts(ch);
  await waitCommitted(env.kafka, `${env.prefix}wh-replay`, erased);
  const list = (xs: string[]) => (xs.length ? xs.map((x) => `'${x}'`).join(',') : "''");
  const where = `user_id IN (${list(ids.user_ids)}) OR anonymous_id IN (${list(ids.anonymous_ids)}) OR email IN (${list(ids.emails.map((e) => hashed('email', e)))}) OR phone IN (${list(ids.phones.map((p) => hashed('phone', p)))})`;
  for (const t of ['clickstream_events', 'purchases', 'support_tickets'])
    assert.deepEqual(await q(`SELECT count() AS n FROM ${t} WHERE ${where}`), [{ n: 0 }], t);
  assert.deepEqual(await q(`SELECT count() AS n FROM purchase_items WHERE customer_key IN (${list(ids.user_ids)})`), [{ n: 0 }]);
  assert.deepEqual(await q("SELECT count() AS n FROM profiles WHERE profile_id = 'PX'"), [{ n: 0 }]);
  const after = await tableCounts(ch);
  assert.ok(after.clickstream_events < before.clickstream_events && after.clickstream_events > 0, "only that customer's clicks went");

  // a late arrival of the erased customer (a new event id, occurred before the erasure) is not stored: the erasure
  // left tombstones (events after it start a new profile and are stored: packages/warehouse/src/sink.test.ts)
  const theirs = valid().find((r) => r.topic === 'clickstream' && ids.user_ids.includes(r.value.user_id?.trim() ?? ''))!;
  const late = createProducer(env.kafka);
  await late.connect();
  await late.send({
    topic: env.topics.clickstream.topic,
    acks: -1,
    messages: [{ key: 'late', value: await env.registry.encode(env.topics.clickstream.topic, { ...theirs.value, event_id: 'after-erasure' }) }],
  });
  await late.disconnect();
  await waitCommitted(env.kafka, `${env.prefix}wh-replay`, env.topics.clickstream.topic);
  assert.deepEqual(await q("SELECT count() AS n FROM clickstream_events WHERE event_id = 'after-erasure'"), [{ n: 0 }]);
  assert.deepEqual(await tableCounts(ch), after);
});
