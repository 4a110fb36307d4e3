/** Process entry for the segmenter: parse config and definitions (fail fast), start, drain on SIGTERM/SIGINT. */
import { onShutdown } from '@profile-stream/consumer-kit';
import { loadSegmenterConfig } from './config.ts';
import { startSegmenter } from './build-service.ts';

export async function runSegmenterMain(): Promise<void> {
  const cfg = loadSegmenterConfig();
  let early: NodeJS.Signals | undefined;
  const remember = (signal: NodeJS.Signals) => { early = signal; };
  process.on('SIGTERM', remember);
  process.on('SIGINT', remember);
  const s = await startSegmenter(cfg);
  process.off('SIGTERM', remember);
  process.off('SIGINT', remember);
  onShutdown(s.log, [() => s.stop()]);
  if (early) process.kill(process.pid, early);
}
