/** The profile-api service from its config: Redis, the profile store, the key store, the definitions, the HTTP server. */
import { type Logger, serviceParts } from '@profile-stream/consumer-kit';
import { createRedis, ProfileStore } from '@profile-stream/profile';
import { checkShardsAtStart, MembershipStore, RfmFollower, segmentKeys } from '@profile-stream/segmenter';
import { loadDefinitions, RfmVersions } from '@profile-stream/segments';
import { profileChangeRecords } from '@profile-stream/stitcher';
import { identifierHash } from '@profile-stream/warehouse/pii';
import { buildApi } from './app.ts';
import type { ProfileApiConfig } from './config.ts';
import { ApiKeyStore } from './keys.ts';
import { createApiMetrics } from './metrics.ts';
import { erasureRecords } from './routes/erase.ts';
import { openTimelineSource } from './routes/timeline.ts';

export interface RunningProfileApi {
  log: Logger;
  /** The port it listens on (PROFILE_API_PORT, or the one the system chose for 0). */
  port: number;
  stop(): Promise<void>;
}

export async function startProfileApi(cfg: ProfileApiConfig): Promise<RunningProfileApi> {
  // Definitions first: an invalid file stops the start with file, path and reason.
  const defs = await loadDefinitions(cfg.segmentsDir, { params: cfg.params, each: { tier: cfg.loyaltyTiers } });
  // Kafka and the registry: consent changes are published on profile-changes.
  const { log, producer, registry, topics } = await serviceParts(cfg);
  const redis = createRedis(cfg.conn.redis.url);
  redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection problem'));
  // Member lists and memberships are read by shard: another count than the state's is refused (SEGMENTER_SHARDS).
  const shardCheck = await checkShardsAtStart({ redis, key: segmentKeys(cfg.redisPrefix).shards, shards: cfg.shards, log }).catch(async (err: unknown) => {
    redis.disconnect();
    await producer.disconnect();
    throw err;
  });
  // A consent change is a fold, which trims the profile's de-duplication window to windowMs: the stitchers' window.
  const store = new ProfileStore({ redis, prefix: cfg.redisPrefix, windowMs: cfg.windowMs });
  // The RFM breakpoints the segmenter scores with (its current version), followed as it follows them; never re-scores.
  const rfm = new RfmFollower({
    mode: cfg.rfmBreakpoints,
    loaded: defs,
    versions: new RfmVersions(redis, cfg.redisPrefix),
    pollMs: cfg.rfmPollMs,
    owner: cfg.service,
    log,
  });
  await rfm.start();
  const warehouse = openTimelineSource(cfg.warehouse);
  const app = await buildApi({
    redis,
    prefix: cfg.redisPrefix,
    store,
    keys: new ApiKeyStore({ redis, prefix: cfg.redisPrefix, cacheMs: cfg.keyCacheMs }),
    memberships: new MembershipStore(redis, { prefix: cfg.redisPrefix, shards: cfg.shards, placed: shardCheck.checked }),
    defs,
    current: () => rfm.defs,
    normalise: { defaultRegion: cfg.defaultRegion, blocklist: new Set(cfg.junkIds) },
    metrics: createApiMetrics(cfg.service),
    log,
    rateLimitPerMinute: cfg.rateLimitPerMinute,
    warehouse,
    // Erasures: identifier hashes keyed as the warehouse keys them (PII_HASH_KEY), published on profile-erased and profile-changes.
    erase: {
      hash: (type, value) => identifierHash(cfg.warehouse.piiKey, type, value),
      async publish(r) {
        await producer.sendBatch({ acks: -1, topicMessages: await erasureRecords(registry, topics, r, Date.now()) });
      },
    },
    consent: {
      async publish(c) {
        const change = { profileId: c.profileId, version: c.version, doc: c.doc };
        const record = await profileChangeRecords(
          registry,
          topics,
          [{ fold: change, triggerEventId: c.eventId, occurredAt: c.at, sections: ['consent'], mergedIds: c.mergedIds, cause: 'consent' }],
          Date.now(),
        );
        await producer.sendBatch({ acks: -1, topicMessages: [record] });
      },
    },
  });
  await app.listen({ port: cfg.port, host: cfg.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : cfg.port;
  log.info({ host: cfg.host, port, segments: defs.length, warehouse: warehouse.location }, 'profile-api started');
  return {
    log,
    port,
    async stop() {
      shardCheck.stop();
      await app.close(); // finishes in-flight requests
      await rfm.stop();
      await producer.disconnect();
      await warehouse.client.close();
      redis.disconnect();
    },
  };
}
