#!/usr/bin/env node
// The segmenter process (`profile-stream run segmenter`): evaluate, relay and schedule roles (SEGMENTER_ROLES).
import { runEntry } from '@profile-stream/consumer-kit/entry';

await runEntry('segmenter', async () => {
  const { runSegmenterMain } = await import('@profile-stream/segmenter');
  return runSegmenterMain;
});
