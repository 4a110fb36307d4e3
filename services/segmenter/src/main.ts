#!/usr/bin/env node
// The segmenter process (`profile-stream run segmenter`): evaluate, relay and schedule roles (SEGMENTER_ROLES).
import { runService } from '@profile-stream/consumer-kit/entry';

await runService('segmenter', async () => {
  const { loadSegmenterConfig, startSegmenter } = await import('@profile-stream/segmenter');
  return startSegmenter(loadSegmenterConfig(process.env));
});
