/** Segmenter settings, parsed once from the environment (a bad value stops the start naming the variable). */
import { resolve } from 'node:path';
import { hostname } from 'node:os';
import { z } from 'zod';
import { ConfigError, env, loadConnections, parseEnv, REPO_ROOT, type Connections, type Env } from '@profile-stream/consumer-kit';
import type { ParamOverrides } from '@profile-stream/segments';

export const ROLES = ['evaluate', 'relay', 'schedule'] as const;
export type Role = (typeof ROLES)[number];

const schema = z.object({
  SEGMENTS_DIR: env.optionalString(),
  SEGMENT_PARAMS: env.optionalString(),
  SEGMENTER_GROUP_ID: env.optionalString(),
  SEGMENTER_OPS_PORT: z.coerce.number({ error: 'expected a TCP port number (0-65535)' }).int().min(0).max(65535).optional(),
  SEGMENTER_ROLES: z.string().default(ROLES.join(',')),
  SEGMENTER_SHARDS: env.int(16, 1, 4096),
  SEGMENTER_CHUNK_SIZE: env.int(1000, 1, 100_000),
  SEGMENTER_PARTITIONS_CONCURRENTLY: env.int(6, 1, 1000),
  SEGMENTER_TICK_MS: env.int(100, 10, 60_000),
  SEGMENTER_LEASE_MS: env.int(5000, 1000, 600_000),
  SEGMENTER_INSTANCE_ID: env.optionalString(),
  REDIS_PREFIX: env.string('ps:'),
  LOG_LEVEL: env.logLevel(),
});

export interface SegmenterConfig {
  service: string;
  groupId: string;
  opsPort: number;
  segmentsDir: string;
  params: ParamOverrides;
  roles: Set<Role>;
  /** Shards of the membership state, outbox and schedule (fixed for a deployment: state is placed by it). */
  shards: number;
  chunkSize: number;
  partitionsConcurrently: number;
  /** How often the scheduler looks for due re-evaluations (ms). */
  tickMs: number;
  /** Shard leases of the relay and the scheduler (one owner per shard; a dead owner's lease lapses after this). */
  leaseMs: number;
  instanceId: string;
  redisPrefix: string;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  conn: Connections;
  env: Env;
}

function parseParams(raw: string | undefined): ParamOverrides {
  if (raw === undefined) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new ConfigError('SEGMENT_PARAMS', `expected JSON like {"high-value":{"threshold_minor":50000}} (got ${JSON.stringify(raw)})`);
  }
  const ok = typeof v === 'object' && v !== null && !Array.isArray(v)
    && Object.values(v).every((p) => typeof p === 'object' && p !== null && !Array.isArray(p));
  if (!ok) throw new ConfigError('SEGMENT_PARAMS', `expected an object of segment id → {param: value} (got ${JSON.stringify(raw)})`);
  return v as ParamOverrides;
}

export function loadSegmenterConfig(e: Env = process.env): SegmenterConfig {
  const c = parseEnv(schema, e);
  const roles = c.SEGMENTER_ROLES.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (unknown.length || roles.length === 0) throw new ConfigError('SEGMENTER_ROLES', `expected a comma-separated subset of ${ROLES.join(', ')} (got ${JSON.stringify(c.SEGMENTER_ROLES)})`);
  return {
    service: 'segmenter',
    groupId: c.SEGMENTER_GROUP_ID ?? 'profile-stream.segmenter',
    opsPort: c.SEGMENTER_OPS_PORT ?? 9414,
    segmentsDir: resolve(REPO_ROOT, c.SEGMENTS_DIR ?? 'segments'),
    params: parseParams(c.SEGMENT_PARAMS),
    roles: new Set(roles as Role[]),
    shards: c.SEGMENTER_SHARDS,
    chunkSize: c.SEGMENTER_CHUNK_SIZE,
    partitionsConcurrently: c.SEGMENTER_PARTITIONS_CONCURRENTLY,
    tickMs: c.SEGMENTER_TICK_MS,
    leaseMs: c.SEGMENTER_LEASE_MS,
    instanceId: c.SEGMENTER_INSTANCE_ID ?? `${hostname()}:${process.pid}`,
    redisPrefix: c.REDIS_PREFIX,
    logLevel: c.LOG_LEVEL,
    conn: loadConnections(e),
    env: e,
  };
}
