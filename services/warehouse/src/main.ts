#!/usr/bin/env node
// The warehouse process (`profile-stream run warehouse`): its own consumer group, /health, /metrics and read-only SQL.
// A start-up failure (bad config, a failing migration, ClickHouse unreachable) is one line naming the cause, exit 1.
import { runWarehouseMain } from '@profile-stream/warehouse';

try {
  await runWarehouseMain();
} catch (err) {
  const code = err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? `${err.code}: ` : '';
  process.stderr.write(`warehouse: ${code}${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
