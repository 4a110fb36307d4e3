#!/usr/bin/env node
// The purchases stitcher process (`profile-stream run purchases`): its own consumer group, /health and /metrics.
import { runService } from '@profile-stream/consumer-kit/entry';

await runService('purchases-stitcher', async () => {
  const { loadStitcherConfig, startStitcher } = await import('@profile-stream/stitcher');
  return startStitcher(loadStitcherConfig('purchases', process.env));
});
