/** Warehouse settings, parsed once from the environment (a bad value stops the start naming the variable). */
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, env, loadConnections, parseEnv, REPO_ROOT, type Connections, type Env } from '@profile-stream/consumer-kit';
import type { PiiMode } from './pii.ts';

export const DEFAULT_WAREHOUSE_PORT = 9420;
/** Used when PII_HASH_KEY is unset (development only; the warehouse logs a warning). */
export const DEVELOPMENT_PII_KEY = 'profile-stream-development-key';

const schema = z.object({
  WAREHOUSE_GROUP_ID: env.string('profile-stream.warehouse'),
  WAREHOUSE_OPS_PORT: z.coerce.number({ error: 'expected a TCP port number (0-65535)' }).int('expected a TCP port number (0-65535)').min(0).max(65535).default(DEFAULT_WAREHOUSE_PORT),
  WAREHOUSE_BATCH_ROWS: env.int(50_000, 1, 10_000_000),
  WAREHOUSE_BATCH_MS: env.int(1000, 1, 600_000),
  WAREHOUSE_BATCH_QUIET_MS: env.int(50, 0, 600_000),
  WAREHOUSE_CHUNK_SIZE: env.int(10_000, 1, 100_000),
  WAREHOUSE_PARTITIONS_CONCURRENTLY: env.int(42, 1, 1000),
  WAREHOUSE_SESSION_TIMEOUT_MS: env.int(30_000, 6000, 300_000),
  WAREHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a database name (letters, digits, _)').default('profile_stream'),
  WAREHOUSE_DATA_DIR: env.optionalString(),
  WAREHOUSE_MIGRATIONS_DIR: env.string(resolve(REPO_ROOT, 'infra/clickhouse')),
  WAREHOUSE_CLICKSTREAM_TTL_DAYS: env.int(0, 0, 36_500),
  WAREHOUSE_PII: z.enum(['hash', 'plain'], { error: 'expected hash or plain' }).default('hash'),
  PII_HASH_KEY: z.string().min(16, 'expected at least 16 characters').optional(),
  PROFILE_DEFAULT_REGION: z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 region like GB').default('GB'),
  PROFILE_JUNK_IDS: z.string().default(''),
  PROFILE_MAX_FUTURE_HOURS: env.int(24, 0, 24 * 365),
  LOG_LEVEL: env.logLevel(),
});

export interface WarehouseConfig {
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
  defaultRegion: string;
  junkIds: string[];
  maxFutureMs: number;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  conn: Connections;
  env: Env;
}

export function loadWarehouseConfig(e: Env = process.env): WarehouseConfig {
  const c = parseEnv(schema, e);
  const conn = loadConnections(e);
  if (c.WAREHOUSE_PII === 'hash' && c.PII_HASH_KEY === undefined && e.NODE_ENV === 'production') {
    throw new ConfigError('PII_HASH_KEY', 'required when NODE_ENV=production and WAREHOUSE_PII=hash (got null)');
  }
  return {
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
    dataDir: resolve(c.WAREHOUSE_DATA_DIR ?? conn.clickhouse.dataDir),
    migrationsDir: resolve(c.WAREHOUSE_MIGRATIONS_DIR),
    clickstreamTtlDays: c.WAREHOUSE_CLICKSTREAM_TTL_DAYS,
    pii: c.WAREHOUSE_PII,
    piiKey: c.PII_HASH_KEY ?? DEVELOPMENT_PII_KEY,
    piiKeyIsDefault: c.PII_HASH_KEY === undefined,
    defaultRegion: c.PROFILE_DEFAULT_REGION,
    junkIds: c.PROFILE_JUNK_IDS.split(',').map((s) => s.trim()).filter(Boolean),
    maxFutureMs: c.PROFILE_MAX_FUTURE_HOURS * 3_600_000,
    logLevel: c.LOG_LEVEL,
    conn,
    env: e,
  };
}
