/**
 * One ClickHouse client API over both back ends: embedded chDB (default; data in a directory the
 * calling process owns) or a ClickHouse server/cluster when CLICKHOUSE_URL is set. Both are
 * @clickhouse/client's ClickHouseClient, so queries, inserts and settings are written once.
 */
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { mkdirSync } from 'node:fs';

export type { ClickHouseClient };
type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

export interface ClickHouseOptions {
  /** http(s)://user:pass@host:port/db of a server; when absent chDB runs embedded. */
  url?: string | undefined;
  /** chDB data directory (embedded mode); ':memory:' for a throwaway session. */
  dataDir: string;
  database?: string;
}

export interface ClickHouseHandle {
  client: ClickHouseClient;
  mode: 'embedded' | 'server';
  /** Where the data lives: the chDB directory or the server URL without credentials. */
  location: string;
}

export function openClickHouse(options: ClickHouseOptions): ClickHouseHandle {
  if (options.url) {
    const u = new URL(options.url);
    const location = `${u.protocol}//${u.host}${u.pathname}`;
    const client = createClient({
      url: options.url,
      ...(options.database ? { database: options.database } : {}),
      clickhouse_settings: { async_insert: 0, wait_end_of_query: 1 },
    });
    return { client, mode: 'server', location };
  }
  if (options.dataDir !== ':memory:') mkdirSync(options.dataDir, { recursive: true });
  const client = createClient({
    // chdb types its connection against @clickhouse/client-common, which the client now bundles: same shape.
    connection: createChdbConnection({ path: options.dataDir }) as unknown as ClientConnection,
    ...(options.database ? { database: options.database } : {}),
  });
  return { client, mode: 'embedded', location: options.dataDir };
}

/** The server's version string (chDB reports its ClickHouse engine version). */
export async function clickHouseVersion(client: ClickHouseClient): Promise<string> {
  const rs = await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' });
  const rows = await rs.json<{ v: string }>();
  return rows[0]?.v ?? 'unknown';
}
