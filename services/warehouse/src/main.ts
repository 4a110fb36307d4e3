#!/usr/bin/env node
// The warehouse process (`profile-stream run warehouse`): its own consumer group, /health, /metrics and read-only SQL.
// A start-up failure (bad config, a failing migration, ClickHouse unreachable) is one line naming the cause, exit 1.
import { runService } from '@profile-stream/consumer-kit/entry';

await runService('warehouse', async () => {
  const { loadWarehouseConfig, startWarehouse } = await import('@profile-stream/warehouse');
  return startWarehouse(loadWarehouseConfig(process.env));
});
