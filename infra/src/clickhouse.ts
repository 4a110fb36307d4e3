/** ClickHouse: embedded chDB needs no process; a server (CLICKHOUSE_URL) is only probed. */
import { clickHouseVersion, openClickHouse } from '@profile-stream/clickhouse';
import { componentFiles, type Component, type ComponentContext } from './component.ts';

export function clickhouseComponent(ctx: ComponentContext): Component {
  const { conn } = ctx;
  let version = conn.clickhouse.url ? 'server' : 'embedded chDB';
  return {
    name: 'clickhouse',
    port: undefined,
    managed: false,
    external: !conn.clickhouse.local,
    ...componentFiles(ctx, 'clickhouse'),
    async fetch() {},
    async start() {},
    async ready() {
      // Embedded: a throwaway in-memory session proves the library loads; the warehouse owns the data dir.
      const h = openClickHouse({ url: conn.clickhouse.url, dataDir: ':memory:' });
      try {
        version = `${h.mode === 'embedded' ? 'chDB' : 'ClickHouse server'} ${await clickHouseVersion(h.client)}`;
        return true;
      } finally {
        await h.client.close();
      }
    },
    version: () => version,
  };
}
