/** The profile-api service from its config: Redis, the profile store, the key store, the definitions, the HTTP server. */
import { createLogger, type Logger } from '@profile-stream/consumer-kit';
import { createRedis, ProfileStore } from '@profile-stream/profile';
import { MembershipStore } from '@profile-stream/segmenter';
import { loadDefinitions } from '@profile-stream/segments';
import { buildApi } from './app.ts';
import type { ProfileApiConfig } from './config.ts';
import { ApiKeyStore } from './keys.ts';
import { createApiMetrics } from './metrics.ts';

export interface RunningProfileApi {
  log: Logger;
  /** The port it listens on (PROFILE_API_PORT, or the one the system chose for 0). */
  port: number;
  stop(): Promise<void>;
}

export async function startProfileApi(cfg: ProfileApiConfig): Promise<RunningProfileApi> {
  // Definitions first: an invalid file stops the start with file, path and reason.
  const defs = await loadDefinitions(cfg.segmentsDir, { params: cfg.params });
  const log = createLogger({ name: cfg.service, level: cfg.logLevel });
  const redis = createRedis(cfg.conn.redis.url);
  redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection problem'));
  // windowMs is the fold's de-duplication window; the API only reads, so any positive value will do.
  const store = new ProfileStore({ redis, prefix: cfg.redisPrefix, windowMs: 1 });
  const app = await buildApi({
    redis,
    prefix: cfg.redisPrefix,
    store,
    keys: new ApiKeyStore({ redis, prefix: cfg.redisPrefix }),
    memberships: new MembershipStore(redis, { prefix: cfg.redisPrefix, shards: cfg.shards }),
    defs,
    normalise: { defaultRegion: cfg.defaultRegion, blocklist: new Set(cfg.junkIds) },
    metrics: createApiMetrics(cfg.service),
    log,
    rateLimitPerMinute: cfg.rateLimitPerMinute,
  });
  await app.listen({ port: cfg.port, host: cfg.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : cfg.port;
  log.info({ host: cfg.host, port, segments: defs.length }, 'profile-api started');
  return {
    log,
    port,
    async stop() {
      await app.close(); // finishes in-flight requests
      redis.disconnect();
    },
  };
}
