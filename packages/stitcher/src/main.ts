/** Process entry for a stitcher: parse config (fail fast), start, drain on SIGTERM/SIGINT. */
import { onShutdown } from '@profile-stream/consumer-kit';
import { loadStitcherConfig, type InputTopicId } from './config.ts';
import { startStitcher } from './build-service.ts';

export async function runStitcherMain(topicId: InputTopicId): Promise<void> {
  const cfg = loadStitcherConfig(topicId);
  // A signal during start-up is kept and honoured once the service can drain.
  let early: NodeJS.Signals | undefined;
  const remember = (signal: NodeJS.Signals) => { early = signal; };
  process.on('SIGTERM', remember);
  process.on('SIGINT', remember);
  const s = await startStitcher(cfg);
  process.off('SIGTERM', remember);
  process.off('SIGINT', remember);
  onShutdown(s.log, [() => s.stop()]);
  if (early) process.kill(process.pid, early);
}
