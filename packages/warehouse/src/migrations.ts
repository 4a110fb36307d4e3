/**
 * Versioned schema migrations: `infra/clickhouse/NNNN_name.sql`, applied in order at start, each recorded in
 * `<db>.schema_migrations` and never applied again. A failing statement stops start-up with the file and the
 * ClickHouse error (a `migration_failed` error); nothing of that file is recorded, so it runs again after a fix
 * (its statements are written to be re-runnable: IF NOT EXISTS).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouseClient } from '@profile-stream/clickhouse';
import type { Logger } from '@profile-stream/consumer-kit';
import { WarehouseError } from './errors.ts';

export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export function loadMigrations(dir: string): Migration[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const out: Migration[] = [];
  for (const file of files) {
    const m = FILE.exec(file);
    if (!m) throw new WarehouseError('migration_failed', `${join(dir, file)}: name must be NNNN_name.sql (digits, lower-case, underscores)`);
    const sql = readFileSync(join(dir, file), 'utf8');
    const version = Number(m[1]);
    if (out.some((x) => x.version === version)) throw new WarehouseError('migration_failed', `${join(dir, file)}: version ${m[1]} is used twice`);
    out.push({ version, name: m[2]!, file: join(dir, file), sql, checksum: createHash('sha256').update(sql).digest('hex').slice(0, 16) });
  }
  return out;
}

/** The statements of a file: `--` comments dropped, split at a `;` that ends a line; `{{db}}` → the database. */
export function statements(sql: string, database: string): string[] {
  return sql
    .split('\n')
    .map((line) => (/^\s*--/.test(line) ? '' : line))
    .join('\n')
    .split(/;\s*$/m)
    .map((s) => s.trim().replaceAll('{{db}}', database))
    .filter((s) => s.length > 0);
}

export interface MigrateResult {
  applied: string[];
  skipped: string[];
}

export async function migrate(client: ClickHouseClient, o: { database: string; dir: string; log: Logger }): Promise<MigrateResult> {
  const all = loadMigrations(o.dir);
  const run = async (query: string, file: string) => {
    try {
      await client.command({ query });
    } catch (err) {
      throw new WarehouseError('migration_failed', `${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err, details: { file } });
    }
  };
  await run(`CREATE DATABASE IF NOT EXISTS ${o.database}`, '(create database)');
  await run(
    `CREATE TABLE IF NOT EXISTS ${o.database}.schema_migrations (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplacingMergeTree ORDER BY version`,
    '(schema_migrations)',
  );
  const rs = await client.query({ query: `SELECT version, checksum FROM ${o.database}.schema_migrations FINAL`, format: 'JSONEachRow' });
  const done = new Map((await rs.json<{ version: number; checksum: string }>()).map((r) => [Number(r.version), r.checksum]));
  const result: MigrateResult = { applied: [], skipped: [] };
  for (const m of all) {
    const previous = done.get(m.version);
    if (previous !== undefined) {
      if (previous !== m.checksum) o.log.warn({ file: m.file }, 'an applied migration was edited since; it is not applied again (add a new migration instead)');
      result.skipped.push(m.file);
      continue;
    }
    for (const s of statements(m.sql, o.database)) await run(s, m.file);
    await client.insert({
      table: `${o.database}.schema_migrations`,
      values: [{ version: m.version, name: m.name, checksum: m.checksum }],
      format: 'JSONEachRow',
    });
    o.log.info({ file: m.file }, 'migration applied');
    result.applied.push(m.file);
  }
  return result;
}

/** Raw clickstream retention: `days` > 0 sets a TTL on clickstream_events, 0 removes it (changed only when it differs). */
export async function applyClickstreamTtl(client: ClickHouseClient, database: string, days: number): Promise<void> {
  const rs = await client.query({
    query: `SELECT create_table_query AS q FROM system.tables WHERE database = {db:String} AND name = 'clickstream_events'`,
    query_params: { db: database },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ q: string }>();
  const current = /TTL .*toIntervalDay\((\d+)\)/.exec(row?.q ?? '')?.[1];
  const now = current === undefined ? 0 : Number(current);
  if (now === days) return;
  const table = `${database}.clickstream_events`;
  await client.command({
    query: days > 0 ? `ALTER TABLE ${table} MODIFY TTL toDateTime(occurred_at) + INTERVAL ${days} DAY` : `ALTER TABLE ${table} REMOVE TTL`,
    clickhouse_settings: { materialize_ttl_after_modify: 0 },
  });
}
