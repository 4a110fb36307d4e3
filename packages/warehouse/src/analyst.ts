/**
 * Where `profile-stream sql` sends a query: a ClickHouse server when CLICKHOUSE_URL is set; else the running
 * warehouse's ops port (it owns the chDB directory and serves read-only SQL); else, with no warehouse running,
 * the chDB directory opened by the CLI itself.
 */
import { createClient } from '@clickhouse/client';
import { openClickHouse, type ClickHouseClient } from '@profile-stream/clickhouse';
import { WarehouseError } from './errors.ts';

export interface AnalystClient {
  client: ClickHouseClient;
  mode: 'server' | 'warehouse' | 'embedded';
  location: string;
  close(): Promise<void>;
}

async function warehouseAnswers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(1500) });
    return res.ok && (await res.text()).startsWith('Ok.');
  } catch {
    return false; // nothing listens there: no warehouse running
  }
}

export async function openAnalystClient(o: { url: string | undefined; database: string; opsPort: number; dataDir: string }): Promise<AnalystClient> {
  if (o.url) {
    const h = openClickHouse({ url: o.url, dataDir: o.dataDir, database: o.database });
    return { client: h.client, mode: 'server', location: h.location, close: () => h.client.close() };
  }
  if (await warehouseAnswers(o.opsPort)) {
    const client = createClient({ url: `http://127.0.0.1:${o.opsPort}` });
    return { client, mode: 'warehouse', location: `warehouse on 127.0.0.1:${o.opsPort}`, close: () => client.close() };
  }
  const h = openClickHouse({ dataDir: o.dataDir });
  try {
    await h.client.command({ query: `USE ${o.database}` });
  } catch (err) {
    await h.client.close();
    throw new WarehouseError(
      'clickhouse_unavailable',
      `no warehouse database "${o.database}" in ${o.dataDir} and no warehouse answering on port ${o.opsPort}: start it with \`profile-stream run warehouse\``,
      { cause: err },
    );
  }
  return { client: h.client, mode: 'embedded', location: h.location, close: () => h.client.close() };
}
