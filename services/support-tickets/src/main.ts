#!/usr/bin/env node
// The support-tickets stitcher process (`profile-stream run support-tickets`): its own consumer group, /health and /metrics.
import { runEntry } from '@profile-stream/consumer-kit/entry';

await runEntry('support-tickets-stitcher', async () => {
  const { runStitcherMain } = await import('@profile-stream/stitcher');
  return () => runStitcherMain('support-tickets');
});
