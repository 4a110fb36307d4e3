#!/usr/bin/env node
// The support-tickets stitcher process (`profile-stream run support-tickets`): its own consumer group, /health and /metrics.
import { runStitcherMain } from '@profile-stream/stitcher';

await runStitcherMain('support-tickets');
