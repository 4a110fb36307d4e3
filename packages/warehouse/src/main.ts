/** Process entry for the warehouse: parse config (fail fast), start, drain on SIGTERM/SIGINT. */
import { runService } from '@profile-stream/consumer-kit';
import { startWarehouse } from './build-service.ts';
import { loadWarehouseConfig } from './config.ts';

export async function runWarehouseMain(): Promise<void> {
  const cfg = loadWarehouseConfig();
  await runService(() => startWarehouse(cfg));
}
