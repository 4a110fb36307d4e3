#!/usr/bin/env node
// The purchases stitcher process (`profile-stream run purchases`): its own consumer group, /health and /metrics.
import { runStitcherMain } from '@profile-stream/stitcher';

await runStitcherMain('purchases');
