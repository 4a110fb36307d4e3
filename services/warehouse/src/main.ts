#!/usr/bin/env node
// The warehouse process (`profile-stream run warehouse`): its own consumer group, /health, /metrics and read-only SQL.
// A start-up failure (bad config, a failing migration, ClickHouse unreachable) is one line naming the cause, exit 1.
import { runEntry } from '@profile-stream/consumer-kit/entry';

await runEntry('warehouse', async () => {
  const { runWarehouseMain } = await import('@profile-stream/warehouse');
  return runWarehouseMain;
});
