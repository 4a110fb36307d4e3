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
  PROFILE_DEFAULT_REGION: z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 region like GB').default('GB'),
  PROFILE_JUNK_IDS: z.string().default(''),
  PROFILE_DEDUP_WINDOW_DAYS: env.int(90, 1, 3650),
  PROFILE_MAX_FUTURE_HOURS: env.int(24, 0, 24 * 365),
  REDIS_PREFIX: env.string('ps:'),
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
