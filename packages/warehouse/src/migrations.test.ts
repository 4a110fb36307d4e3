// Migrations on embedded chDB: applied once and recorded, never re-applied, a failing file stops with its name.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, test } from 'vitest';
import { openClickHouse, type ClickHouseClient } from '@profile-stream/clickhouse';
import { createLogger, REPO_ROOT } from '@profile-stream/consumer-kit';
import { applyClickstreamTtl, migrate, statements } from './migrations.ts';
import { WarehouseError } from './errors.ts';

const log = createLogger({ name: 'migrations-test', level: 'silent' });
let client: ClickHouseClient;
const dir = mkdtempSync(join(tmpdir(), 'ps-migrations-'));
const rows = async <T>(query: string) => (await client.query({ query, format: 'JSONEachRow' })).json<T>();

beforeAll(() => {
  client = openClickHouse({ dataDir: join(dir, 'chdb') }).client;
});
afterAll(async () => {
  await client.close();
});

test('statements: comments dropped, split at line-ending semicolons, {{db}} filled in', () => {
  assert.deepEqual(statements("-- note; not a split\nCREATE TABLE {{db}}.a (x String DEFAULT 'a;b') ENGINE = Memory;\n\nSELECT 1;\n", 'd'), [
    "CREATE TABLE d.a (x String DEFAULT 'a;b') ENGINE = Memory",
    'SELECT 1',
  ]);
});

test('the shipped migrations apply on an empty database, are recorded, and apply nothing the second time', async () => {
  const migrations = resolve(REPO_ROOT, 'infra/clickhouse');
  const first = await migrate(client, { database: 'm_shipped', dir: migrations, log });
  assert.ok(first.applied.length >= 4);
  const second = await migrate(client, { database: 'm_shipped', dir: migrations, log });
  assert.deepEqual(second.applied, []);
  assert.equal(second.skipped.length, first.applied.length);
  const recorded = await rows<{ version: number }>('SELECT version FROM m_shipped.schema_migrations FINAL ORDER BY version');
  assert.equal(recorded.length, first.applied.length);
  const tables = (await rows<{ name: string }>("SELECT name FROM system.tables WHERE database = 'm_shipped'")).map((r) => r.name);
  for (const t of [
    'clickstream_events',
    'purchases',
    'purchase_items',
    'support_tickets',
    'segment_membership_changes',
    'identity_merges',
    'profiles',
    'daily_revenue',
    'daily_orders',
    'daily_active_customers',
    'daily_tickets',
    'daily_segment_sizes',
    'rfm',
  ])
    assert.ok(tables.includes(t), `missing ${t}`);
});

test('an applied migration is never applied again (its INSERT runs once)', async () => {
  const d = join(dir, 'once');
  mkdirSync(d);
  writeFileSync(
    join(d, '0001_counter.sql'),
    'CREATE TABLE IF NOT EXISTS {{db}}.counter (x UInt8) ENGINE = MergeTree ORDER BY x;\nINSERT INTO {{db}}.counter VALUES (1);\n',
  );
  await migrate(client, { database: 'm_once', dir: d, log });
  await migrate(client, { database: 'm_once', dir: d, log });
  assert.deepEqual(await rows('SELECT count() AS n FROM m_once.counter'), [{ n: 1 }]);
});

test('a failing migration stops with its file and the ClickHouse error, and is not recorded', async () => {
  const d = join(dir, 'bad');
  mkdirSync(d);
  writeFileSync(join(d, '0001_ok.sql'), 'CREATE TABLE IF NOT EXISTS {{db}}.ok (x UInt8) ENGINE = MergeTree ORDER BY x;\n');
  writeFileSync(join(d, '0002_broken.sql'), 'CREATE TABLE {{db}}.broken (x NoSuchType) ENGINE = MergeTree ORDER BY x;\n');
  await assert.rejects(migrate(client, { database: 'm_bad', dir: d, log }), (err: unknown) => {
    assert.ok(err instanceof WarehouseError);
    assert.equal(err.code, 'migration_failed');
    assert.match(err.message, /0002_broken\.sql: .*NoSuchType/);
    return true;
  });
  assert.deepEqual(await rows('SELECT version FROM m_bad.schema_migrations FINAL'), [{ version: 1 }]);
});

test('a badly named migration file is refused at start', async () => {
  const d = join(dir, 'named');
  mkdirSync(d);
  writeFileSync(join(d, 'add-things.sql'), 'SELECT 1;\n');
  await assert.rejects(migrate(client, { database: 'm_named', dir: d, log }), /add-things\.sql: name must be NNNN_name\.sql/);
});

test('the raw clickstream TTL follows the setting (set, changed, removed)', async () => {
  await migrate(client, { database: 'm_ttl', dir: resolve(REPO_ROOT, 'infra/clickhouse'), log });
  const ttl = async () =>
    (await rows<{ q: string }>("SELECT create_table_query AS q FROM system.tables WHERE database = 'm_ttl' AND name = 'clickstream_events'"))[0]!.q;
  await applyClickstreamTtl(client, 'm_ttl', 30);
  assert.match(await ttl(), /TTL .*toIntervalDay\(30\)/);
  await applyClickstreamTtl(client, 'm_ttl', 400);
  assert.match(await ttl(), /TTL .*toIntervalDay\(400\)/);
  await applyClickstreamTtl(client, 'm_ttl', 0);
  assert.doesNotMatch(await ttl(), /TTL/);
});
