#!/usr/bin/env node
// The loyalty stitcher process (`profile-stream run loyalty`): its own consumer group, /health and /metrics.
import { runService } from '@profile-stream/consumer-kit/entry';

await runService('loyalty-stitcher', async () => {
  const { loadStitcherConfig, startStitcher } = await import('@profile-stream/stitcher');
  return startStitcher(loadStitcherConfig('loyalty', process.env));
});
