#!/usr/bin/env node
// The segmenter process (`profile-stream run segmenter`): evaluate, relay and schedule roles (SEGMENTER_ROLES).
import { runSegmenterMain } from '@profile-stream/segmenter';

await runSegmenterMain();
