/** Stitcher settings, parsed once from the environment (a bad value stops the start naming the variable). */
import { z } from 'zod';
import { env, loadConnections, parseEnv, type Connections, type Env } from '@profile-stream/consumer-kit';

export type InputTopicId = 'clickstream' | 'purchases' | 'support-tickets';
export const DEFAULT_OPS_PORTS: Record<InputTopicId, number> = { clickstream: 9411, purchases: 9412, 'support-tickets': 9413 };

const schema = z.object({
  STITCHER_GROUP_ID: env.optionalString(),
  STITCHER_OPS_PORT: z.coerce.number({ error: 'expected a TCP port number (0-65535)' }).int().min(0).max(65535).optional(),
  STITCHER_CHUNK_SIZE: env.int(2000, 1, 100_000),
  STITCHER_PARTITIONS_CONCURRENTLY: env.int(6, 1, 1000),
  STITCHER_IDENTITY_CACHE: env.int(200_000, 0, 100_000_000),
  STITCHER_SWEEP_MS: env.int(30_000, 0, 86_400_000),
  STITCHER_SESSION_TIMEOUT_MS: env.int(30_000, 6000, 300_000),
  STITCHER_KILL_AT: z.string().regex(/^[a-z:-]+(#[1-9][0-9]*)?$/, 'expected <gate step>[#n], e.g. merge:seal#1').optional(),
  PROFILE_DEFAULT_REGION: z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 region like GB').default('GB'),
  PROFILE_JUNK_IDS: z.string().default(''),
  PROFILE_DEDUP_WINDOW_DAYS: env.int(90, 1, 3650),
  PROFILE_MAX_FUTURE_HOURS: env.int(24, 0, 24 * 365),
  REDIS_PREFIX: env.string('ps:').refine((v) => !/[{}]/.test(v), 'may not contain { or } (they would change the Redis hash tags)'),
  LOG_LEVEL: env.logLevel(),
});

export interface StitcherConfig {
  topicId: InputTopicId;
  service: string;
  groupId: string;
  opsPort: number;
  chunkSize: number;
  /** Partitions whose chunks are handled at the same time (their Redis and Kafka round trips overlap). */
  partitionsConcurrently: number;
  /** Identifier sets whose resolution is kept across chunks (0 = no cache). */
  identityCacheSize: number;
  /** Consumer-group session timeout (a crashed stitcher's partitions move after it). */
  sessionTimeoutMs: number;
  /** How often (and after how long) merges another process left unfinished are finished (0 = never). */
  sweepMs: number;
  /** Fault tests only: SIGKILL this process when it reaches a gate step (the n-th time). */
  killAt: { step: string; n: number } | undefined;
  defaultRegion: string;
  junkIds: string[];
  windowMs: number;
  maxFutureMs: number;
  redisPrefix: string;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  conn: Connections;
  env: Env;
}

export function loadStitcherConfig(topicId: InputTopicId, e: Env = process.env): StitcherConfig {
  const c = parseEnv(schema, e);
  const service = `${topicId}-stitcher`;
  return {
    topicId,
    service,
    groupId: c.STITCHER_GROUP_ID ?? `profile-stream.${service}`,
    opsPort: c.STITCHER_OPS_PORT ?? DEFAULT_OPS_PORTS[topicId],
    chunkSize: c.STITCHER_CHUNK_SIZE,
    partitionsConcurrently: c.STITCHER_PARTITIONS_CONCURRENTLY,
    identityCacheSize: c.STITCHER_IDENTITY_CACHE,
    sweepMs: c.STITCHER_SWEEP_MS,
    sessionTimeoutMs: c.STITCHER_SESSION_TIMEOUT_MS,
    killAt: c.STITCHER_KILL_AT === undefined ? undefined : { step: c.STITCHER_KILL_AT.split('#')[0]!, n: Number(c.STITCHER_KILL_AT.split('#')[1] ?? 1) },
    defaultRegion: c.PROFILE_DEFAULT_REGION,
    junkIds: c.PROFILE_JUNK_IDS.split(',').map((s) => s.trim()).filter(Boolean),
    windowMs: c.PROFILE_DEDUP_WINDOW_DAYS * 86_400_000,
    maxFutureMs: c.PROFILE_MAX_FUTURE_HOURS * 3_600_000,
    redisPrefix: c.REDIS_PREFIX,
    logLevel: c.LOG_LEVEL,
    conn: loadConnections(e),
    env: e,
  };
}
