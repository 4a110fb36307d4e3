#!/usr/bin/env node
// The warehouse process (`profile-stream run warehouse`): its own consumer group, /health, /metrics and read-only SQL.
import { runWarehouseMain } from '@profile-stream/warehouse';

await runWarehouseMain();
