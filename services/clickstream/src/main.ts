#!/usr/bin/env node
// The clickstream stitcher process (`profile-stream run clickstream`): its own consumer group, /health and /metrics.
import { runService } from '@profile-stream/consumer-kit/entry';

await runService('clickstream-stitcher', async () => {
  const { loadStitcherConfig, startStitcher } = await import('@profile-stream/stitcher');
  return startStitcher(loadStitcherConfig('clickstream', process.env));
});
