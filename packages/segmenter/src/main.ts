/** Process entry for the segmenter: parse config and definitions (fail fast), start, drain on SIGTERM/SIGINT. */
import { runService } from '@profile-stream/consumer-kit';
import { loadSegmenterConfig } from './config.ts';
import { startSegmenter } from './build-service.ts';

export async function runSegmenterMain(): Promise<void> {
  const cfg = loadSegmenterConfig();
  await runService(() => startSegmenter(cfg));
}
