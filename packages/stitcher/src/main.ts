/** Process entry for a stitcher: parse config (fail fast), start, drain on SIGTERM/SIGINT. */
import { onShutdown } from '@profile-stream/consumer-kit';
import { loadStitcherConfig, type InputTopicId } from './config.ts';
import { startStitcher } from './build-service.ts';

export async function runStitcherMain(topicId: InputTopicId): Promise<void> {
  const cfg = loadStitcherConfig(topicId);
  const s = await startStitcher(cfg);
  onShutdown(s.log, [() => s.stop()]);
}
