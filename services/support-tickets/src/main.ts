#!/usr/bin/env node
// The support-tickets stitcher process (`profile-stream run support-tickets`): its own consumer group, /health and /metrics.
import { runService } from '@profile-stream/consumer-kit/entry';

await runService('support-tickets-stitcher', async () => {
  const { loadStitcherConfig, startStitcher } = await import('@profile-stream/stitcher');
  return startStitcher(loadStitcherConfig('support-tickets', process.env));
});
