/** Warehouse settings, parsed once from the environment (a bad value stops the start naming the variable). */
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, env, loadSharedConfig, OPS_PORTS, parseSettings, REPO_ROOT, setting, type Env, type SharedConfig } from '@profile-stream/consumer-kit';
import type { PiiMode } from './pii.ts';

/** Used when PII_HASH_KEY is unset (development only; the warehouse logs a warning). */
export const DEVELOPMENT_PII_KEY = 'profile-stream-development-key';

export const WAREHOUSE_SETTINGS = {
  WAREHOUSE_GROUP_ID: setting(env.string('profile-stream.warehouse'), 'consumer group of the warehouse (all seven topics)'),
  WAREHOUSE_OPS_PORT: setting(
    env.opsPort(OPS_PORTS.warehouse),
    '`/health`, `/metrics` and read-only SQL (ClickHouse HTTP subset, embedded mode); 0 = any free port',
  ),
  WAREHOUSE_BATCH_ROWS: setting(env.int(50_000, 1, 10_000_000), 'insert a batch at this many rows'),
  WAREHOUSE_BATCH_MS: setting(env.int(1000, 1, 600_000), 'insert a batch this long after its first row'),
  WAREHOUSE_BATCH_QUIET_MS: setting(
    env.int(50, 0, 600_000),
    'also insert after this long without new rows (every running handler waits); ≥ `WAREHOUSE_BATCH_MS` turns it off',
  ),
  WAREHOUSE_CHUNK_SIZE: setting(env.int(10_000, 1, 100_000), 'messages per handler call and commit'),
  WAREHOUSE_PARTITIONS_CONCURRENTLY: setting(env.int(42, 1, 1000), 'partitions handled at once'),
  WAREHOUSE_SESSION_TIMEOUT_MS: setting(env.int(30_000, 6000, 300_000), "consumer-group session timeout (a crashed warehouse's partitions move after it)"),
  WAREHOUSE_DATABASE: setting(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a database name (letters, digits, _)')
      .default('profile_stream'),
    'ClickHouse database',
  ),
  WAREHOUSE_DATA_DIR: setting(env.optionalString(), 'chDB directory (embedded mode)', '`<PS_DATA_DIR>/chdb`'),
  WAREHOUSE_MIGRATIONS_DIR: setting(env.optionalString(), 'versioned migrations', '`infra/clickhouse` in the repository'),
  WAREHOUSE_CLICKSTREAM_TTL_DAYS: setting(env.int(0, 0, 36_500), 'TTL of raw `clickstream_events` in days, 0 = keep (changed at start when it differs)'),
  WAREHOUSE_PII: setting(
    z.enum(['hash', 'plain'], { error: 'expected hash or plain' }).default('hash'),
    '`hash`: e-mail and phone stored as HMAC-SHA256 keyed with `PII_HASH_KEY`; `plain`: as they are',
  ),
  PII_HASH_KEY: setting(
    z.string().min(16, 'expected at least 16 characters').optional(),
    'key of the identifier hashes (≥ 16 characters); the same key must produce `ProfileErased.identifier_hashes`',
    'a development key (warning logged; required with `NODE_ENV=production`)',
  ),
  NODE_ENV: setting(z.string().optional(), '`production` makes `PII_HASH_KEY` required (with `WAREHOUSE_PII=hash`)'),
  RFM_RECOMPUTE_MINUTES: setting(
    env.int(60, 0, 525_600),
    'recompute the population RFM breakpoints (versioned in Redis) this often; at start only when the current version is older; 0 = off',
  ),
  RFM_MIN_CUSTOMERS: setting(
    env.int(50, 5, 100_000_000),
    'fewer customers with a completed order (or in a currency) is a degenerate population: the previous version stays',
  ),
};

export interface WarehouseConfig extends SharedConfig {
  service: string;
  groupId: string;
  opsPort: number;
  batchRows: number;
  batchMs: number;
  /** Flush early after this long without new rows (every running handler is waiting); ≥ batchMs disables it. */
  batchQuietMs: number;
  chunkSize: number;
  partitionsConcurrently: number;
  /** Group session timeout: how long a crashed warehouse's partitions wait before they move. */
  sessionTimeoutMs: number;
  database: string;
  /** chDB data directory (embedded mode). */
  dataDir: string;
  migrationsDir: string;
  clickstreamTtlDays: number;
  pii: PiiMode;
  piiKey: string;
  piiKeyIsDefault: boolean;
  /** Population RFM breakpoints recomputed this often (ms); 0 = never on a schedule. */
  rfmRecomputeMs: number;
  rfmMinCustomers: number;
}

export function loadWarehouseConfig(e: Env): WarehouseConfig {
  const shared = loadSharedConfig(e);
  const c = parseSettings(WAREHOUSE_SETTINGS, e);
  if (c.WAREHOUSE_PII === 'hash' && c.PII_HASH_KEY === undefined && c.NODE_ENV === 'production') {
    throw new ConfigError('PII_HASH_KEY', 'required when NODE_ENV=production and WAREHOUSE_PII=hash (got null)');
  }
  return {
    ...shared,
    service: 'warehouse',
    groupId: c.WAREHOUSE_GROUP_ID,
    opsPort: c.WAREHOUSE_OPS_PORT,
    batchRows: c.WAREHOUSE_BATCH_ROWS,
    batchMs: c.WAREHOUSE_BATCH_MS,
    batchQuietMs: c.WAREHOUSE_BATCH_QUIET_MS,
    chunkSize: c.WAREHOUSE_CHUNK_SIZE,
    partitionsConcurrently: c.WAREHOUSE_PARTITIONS_CONCURRENTLY,
    sessionTimeoutMs: c.WAREHOUSE_SESSION_TIMEOUT_MS,
    database: c.WAREHOUSE_DATABASE,
    dataDir: resolve(c.WAREHOUSE_DATA_DIR ?? shared.conn.clickhouse.dataDir),
    migrationsDir: c.WAREHOUSE_MIGRATIONS_DIR === undefined ? resolve(REPO_ROOT, 'infra/clickhouse') : resolve(c.WAREHOUSE_MIGRATIONS_DIR),
    clickstreamTtlDays: c.WAREHOUSE_CLICKSTREAM_TTL_DAYS,
    pii: c.WAREHOUSE_PII,
    piiKey: c.PII_HASH_KEY ?? DEVELOPMENT_PII_KEY,
    piiKeyIsDefault: c.PII_HASH_KEY === undefined,
    rfmRecomputeMs: c.RFM_RECOMPUTE_MINUTES * 60_000,
    rfmMinCustomers: c.RFM_MIN_CUSTOMERS,
  };
}
