#!/usr/bin/env node
// The clickstream stitcher process (`profile-stream run clickstream`): its own consumer group, /health and /metrics.
import { runEntry } from '@profile-stream/consumer-kit/entry';

await runEntry('clickstream-stitcher', async () => {
  const { runStitcherMain } = await import('@profile-stream/stitcher');
  return () => runStitcherMain('clickstream');
});
