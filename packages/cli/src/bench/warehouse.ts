/**
 * `bench warehouse`: N generated input events (clickstream, purchases, support tickets) from Kafka into embedded
 * ClickHouse through the warehouse (decode → rows → batched, de-duplicated insert → commit), against a direct bulk
 * insert of the same rows through @clickhouse/client in the same run (same schema and materialized views); then
 * the latency of the ten analyst queries on the ingested set.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openClickHouse } from '@profile-stream/clickhouse';
import { resolveTopics } from '@profile-stream/contracts';
import { deleteTopics } from '@profile-stream/consumer-kit';
import { generate, isJunk } from '@profile-stream/generator';
import { provision } from '@profile-stream/infra';
import {
  ANALYST_QUERIES,
  analystSql,
  clickRows,
  insertRows,
  loadWarehouseConfig,
  migrate,
  piiStorer,
  purchaseRows,
  startWarehouse,
  ticketRows,
  loyaltyRows,
  type Row,
  type RowOptions,
  type TableName,
  type TableRows,
} from '@profile-stream/warehouse';
import { openClients } from '../clients.ts';
import type { CliContext } from '../context.ts';
import { Sender } from '../sender.ts';
import { printTable } from '../table.ts';
import { rate, summarize } from './stats.ts';

const RAW_TABLES = ['clickstream_events', 'purchases', 'purchase_items', 'support_tickets'] as const;

export async function benchWarehouse(ctx: CliContext, o: { events: number }): Promise<void> {
  const prefix = `bench-${randomBytes(3).toString('hex')}.`;
  const topics = resolveTopics({ prefix });
  await provision(ctx.conn, topics, ctx.log);
  const env: NodeJS.ProcessEnv = { ...ctx.env, LOG_LEVEL: 'warn' };
  for (const t of Object.values(topics)) env[t.envVar] = t.topic;
  const dataDir = mkdtempSync(join(tmpdir(), 'ps-bench-warehouse-'));
  const clients = openClients(ctx, topics);
  const h = openClickHouse({ dataDir });
  const client = h.client;
  try {
    const cfg = loadWarehouseConfig({ ...env, WAREHOUSE_OPS_PORT: '0', WAREHOUSE_DATA_DIR: dataDir });
    const rowOptions: RowOptions = {
      storePii: piiStorer(cfg.pii, cfg.piiKey),
      defaultRegion: cfg.defaultRegion,
      blocklist: new Set(),
      now: Date.now(),
      maxFutureMs: cfg.maxFutureMs,
    };
    process.stderr.write(`generating and producing ${o.events} events (clickstream, purchases, support tickets)...\n`);
    const sender = new Sender(await clients.producer());
    const direct = new Map<TableName, Row[]>();
    let events = 0;
    let customer = '';
    const customers = Math.ceil(o.events / 18);
    for (const r of generate({ seed: 6, customers, days: 90, start: Date.now() - 91 * 86_400_000, malformedRate: 0, duplicateRate: 0 })) {
      if ('malformed' in r) continue;
      const topic = topics[r.topic].topic;
      await sender.add(topic, { key: r.key, value: await clients.registry.encode(topic, r.value) });
      const rows: TableRows =
        r.topic === 'clickstream'
          ? clickRows(r.value, rowOptions)
          : r.topic === 'purchases'
            ? purchaseRows(r.value, rowOptions)
            : r.topic === 'support-tickets'
              ? ticketRows(r.value, rowOptions)
              : loyaltyRows(r.value, rowOptions);
      for (const [t, list] of Object.entries(rows) as [TableName, Row[]][]) {
        const l = direct.get(t);
        if (l) l.push(...list);
        else direct.set(t, [...list]);
      }
      if (!customer && r.topic === 'purchases' && !isJunk(r.value.user_id)) customer = r.value.user_id!.trim();
      if (++events === o.events) break;
    }
    await sender.flush();
    const totalRows = [...direct.values()].reduce((n, l) => n + l.length, 0);
    const counted = async (db: string) => {
      const rs = await client.query({ query: RAW_TABLES.map((t) => `SELECT count() AS n FROM ${db}.${t}`).join(' UNION ALL '), format: 'JSONEachRow' });
      return (await rs.json<{ n: string }>()).reduce((n, r) => n + Number(r.n), 0);
    };

    // The warehouse (in this process), from offset 0; the clock starts at its first batch.
    const w = await startWarehouse({ ...cfg, logLevel: 'warn' }, { client });
    let firstAt = 0;
    const kc = w.consumer.consumer;
    kc.on(kc.events.START_BATCH_PROCESS, () => {
      if (!firstAt) firstAt = performance.now();
    });
    while ((await counted(cfg.database)) < totalRows) await new Promise((r) => setTimeout(r, 100));
    const warehouseMs = performance.now() - firstAt;
    await w.stop();

    // Direct bulk insert of the same rows, batches of WAREHOUSE_BATCH_ROWS, into a database with the same schema.
    await migrate(client, { database: 'bench_direct', dir: cfg.migrationsDir, log: ctx.log });
    const t0 = performance.now();
    for (const [table, rows] of direct) {
      for (let i = 0; i < rows.length; i += cfg.batchRows) await insertRows(client, `bench_direct.${table}`, rows.slice(i, i + cfg.batchRows));
    }
    const directMs = performance.now() - t0;
    printTable([
      {
        path: 'direct bulk insert (@clickhouse/client, JSONCompactEachRow, same rows and MVs)',
        events,
        rows: totalRows,
        'rows/s': rate(totalRows, directMs),
        ratio: '1.00',
      },
      {
        path: 'warehouse: Kafka → decode → rows → de-duplicated batch insert → commit',
        events,
        rows: totalRows,
        'rows/s': rate(totalRows, warehouseMs),
        ratio: (directMs / warehouseMs).toFixed(2),
      },
    ]);

    // The ten analyst queries on the ingested set (5 runs each after one warm-up).
    await client.command({ query: `USE ${cfg.database}` });
    const latencies = [];
    for (const q of ANALYST_QUERIES) {
      const sql = analystSql(q, { customer });
      const samples: number[] = [];
      let rows = 0;
      for (let i = 0; i < 6; i++) {
        const s = performance.now();
        rows = (await (await client.query({ query: sql, format: 'JSONEachRow' })).json()).length;
        if (i > 0) samples.push(performance.now() - s);
      }
      const st = summarize(samples);
      latencies.push({ query: q.id, rows, 'p50 ms': st.p50.toFixed(1), 'max ms': st.max.toFixed(1) });
    }
    process.stdout.write(`\nanalyst queries on ${events} events (${totalRows} raw rows):\n`);
    printTable(latencies);
  } finally {
    await client.close();
    await deleteTopics(
      clients.kafka,
      Object.values(topics).flatMap((t) => [t.topic, `${t.topic}.dlq`]),
    ).catch(() => undefined);
    await clients.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
