/**
 * Warehouse faults on the real stack: killed with SIGKILL in the middle of a stream and restarted, and ClickHouse
 * inserts failing for a while (a fault injected at the client boundary): nothing lost, nothing counted twice, the
 * daily aggregates still equal the raw rows.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, test } from 'vitest';
import { createClient } from '@clickhouse/client';
import { openClickHouse, type ClickHouseClient } from '@profile-stream/clickhouse';
import { generate, groundTruth, type GeneratedRecord, type GroundTruth } from '@profile-stream/generator';
import { loadWarehouseConfig, startWarehouse } from '@profile-stream/warehouse';
import { testEnv, waitUntil, type TestEnv } from './support/index.ts';
import { produceRecords, startService, stopService, waitCommitted } from './support/pipeline.ts';
import { freePort, rawVsAggregates, tableCounts, WAREHOUSE_INPUTS } from './support/warehouse.ts';

const DAY = 86_400_000;
let env: TestEnv;
let records: GeneratedRecord[];
let truth: GroundTruth;
const gen = { seed: 707, customers: 220, days: 20, start: Math.floor((Date.now() - 25 * DAY) / DAY) * DAY };

beforeAll(async () => {
  env = await testEnv('whf');
  records = [...generate(gen)];
  truth = groundTruth(gen);
  await produceRecords(env, records);
});

const settings = (group: string, dataDir: string, port: number): NodeJS.ProcessEnv => ({
  ...env.childEnv,
  WAREHOUSE_GROUP_ID: `${env.prefix}${group}`,
  WAREHOUSE_DATA_DIR: dataDir,
  WAREHOUSE_OPS_PORT: String(port),
  WAREHOUSE_BATCH_ROWS: '400',
  WAREHOUSE_BATCH_MS: '100',
  WAREHOUSE_CHUNK_SIZE: '150',
  WAREHOUSE_PARTITIONS_CONCURRENTLY: '4',
  WAREHOUSE_SESSION_TIMEOUT_MS: '8000', // the killed member's partitions move after 8 s instead of 30 s
});

async function assertExact(ch: ClickHouseClient | ReturnType<typeof createClient>): Promise<void> {
  const counts = await tableCounts(ch as ClickHouseClient);
  assert.equal(counts.clickstream_events, truth.valid.clickstream);
  assert.equal(counts.purchases, truth.valid.purchases);
  assert.equal(counts.support_tickets, truth.valid['support-tickets']);
  const q = async (sql: string) => (await ch.query({ query: sql, format: 'JSONEachRow' })).json();
  const revenue = Object.fromEntries(
    ((await q('SELECT currency, sum(signed_total_minor) AS n FROM purchases GROUP BY currency')) as { currency: string; n: string }[]).map((r) => [
      r.currency,
      Number(r.n),
    ]),
  );
  assert.deepEqual(revenue, truth.revenue_minor);
  for (const [name, [agg, raw]] of Object.entries(rawVsAggregates)) assert.deepEqual(await q(agg), await q(raw), name);
}

test('killed with SIGKILL mid-stream and restarted: counts and aggregates exact', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ps-whf-kill-'));
  const port = await freePort();
  const ch = createClient({ url: `http://127.0.0.1:${port}` });
  try {
    const first = startService(settings('kill', dataDir, port), 'warehouse');
    const seen = await waitUntil(
      'some rows inserted',
      async () => {
        const n = (await tableCounts(ch as unknown as ClickHouseClient)).clickstream_events;
        return n > 0 ? n : undefined;
      },
      60_000,
    );
    assert.equal(await stopService(first, 'SIGKILL'), null);
    assert.ok(seen < truth.valid.clickstream, `killed after everything was in (${seen}); the test needs a kill mid-stream`);
    const second = startService(settings('kill', dataDir, port), 'warehouse');
    try {
      for (const id of WAREHOUSE_INPUTS) await waitCommitted(env.kafka, `${env.prefix}kill`, env.topics[id].topic);
      await assertExact(ch);
    } finally {
      assert.equal(await stopService(second), 0, second.stderr());
    }
  } finally {
    await ch.close();
  }
});

test('inserts failing for a while (fault at the client boundary): the sink waits and retries, nothing lost or skipped', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ps-whf-fault-'));
  const real = openClickHouse({ dataDir }).client;
  let failed = 0;
  let failUntil = 0;
  const flaky = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== 'insert') return Reflect.get(target, prop, receiver);
      return async (params: Parameters<ClickHouseClient['insert']>[0]) => {
        if (!String(params.table).endsWith('schema_migrations')) {
          failUntil ||= Date.now() + 3000; // ClickHouse "down" for 3 s from the first data insert
          if (Date.now() < failUntil) {
            failed += 1;
            throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123 (injected)'), { code: 'ECONNREFUSED' });
          }
        }
        return target.insert(params);
      };
    },
  });
  const cfg = loadWarehouseConfig(settings('fault', dataDir, 0));
  const w = await startWarehouse({ ...cfg, logLevel: 'error' }, { client: flaky });
  try {
    for (const id of WAREHOUSE_INPUTS) await waitCommitted(env.kafka, `${env.prefix}fault`, env.topics[id].topic);
    assert.ok(failed > 0, 'the fault was injected');
    const metrics = await (await fetch(`http://127.0.0.1:${w.opsPort}/metrics`)).text();
    assert.match(metrics, /ps_retries_total\{[^}]*\} [1-9]/, 'the consume loop retried');
    await assertExact(real);
  } finally {
    await w.stop();
    await real.close();
  }
});
