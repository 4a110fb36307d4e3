#!/usr/bin/env node
// The purchases stitcher process (`profile-stream run purchases`): its own consumer group, /health and /metrics.
import { runEntry } from '@profile-stream/consumer-kit/entry';

await runEntry('purchases-stitcher', async () => {
  const { runStitcherMain } = await import('@profile-stream/stitcher');
  return () => runStitcherMain('purchases');
});
