#!/usr/bin/env node
// The clickstream stitcher process (`profile-stream run clickstream`): its own consumer group, /health and /metrics.
import { runStitcherMain } from '@profile-stream/stitcher';

await runStitcherMain('clickstream');
