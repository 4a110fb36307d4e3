#!/usr/bin/env node
// The segmenter process (`profile-stream run segmenter`): evaluate, relay and schedule roles (SEGMENTER_ROLES).
// A start-up failure (a bad setting, an invalid definition) is one line naming the cause, exit 1.
import { runSegmenterMain } from '@profile-stream/segmenter';

try {
  await runSegmenterMain();
} catch (err) {
  const code = err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? `${err.code}: ` : '';
  process.stderr.write(`segmenter: ${code}${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
