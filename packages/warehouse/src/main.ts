/** Process entry for the warehouse: parse config (fail fast), start, drain on SIGTERM/SIGINT. */
import { onShutdown } from '@profile-stream/consumer-kit';
import { startWarehouse } from './build-service.ts';
import { loadWarehouseConfig } from './config.ts';

export async function runWarehouseMain(): Promise<void> {
  const cfg = loadWarehouseConfig();
  // A signal during start-up is kept and honoured once the service can drain.
  let early: NodeJS.Signals | undefined;
  const remember = (signal: NodeJS.Signals) => { early = signal; };
  process.on('SIGTERM', remember);
  process.on('SIGINT', remember);
  const w = await startWarehouse(cfg);
  process.off('SIGTERM', remember);
  process.off('SIGINT', remember);
  onShutdown(w.log, [() => w.stop()]);
  if (early) process.kill(process.pid, early);
}
