/** Process entry for a stitcher: parse config (fail fast), start, drain on SIGTERM/SIGINT. */
import { runService } from '@profile-stream/consumer-kit';
import { loadStitcherConfig, type InputTopicId } from './config.ts';
import { startStitcher } from './build-service.ts';

export async function runStitcherMain(topicId: InputTopicId): Promise<void> {
  const cfg = loadStitcherConfig(topicId);
  await runService(() => startStitcher(cfg));
}
