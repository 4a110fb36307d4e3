/**
 * The segmenter service from its config. Three roles, all on by default, each can run in its own processes:
 * `evaluate` (the profile-changes consumer: one writer per profile), `relay` (outbox → Kafka) and `schedule`
 * (due re-evaluations → ticks). The relay and the scheduler work on the shards they lease.
 */
import { createKitMetrics, type Logger, type RunningConsumer, serviceParts, startConsumer, startOpsServer } from '@profile-stream/consumer-kit';
import { AccountStore, createRedis, ProfileStore } from '@profile-stream/profile';
import { loadDefinitions, RfmVersions, type SegmentDefinition } from '@profile-stream/segments';
import { backfill } from './backfill.ts';
import type { SegmenterConfig } from './config.ts';
import { recordDefinitions } from './definitions.ts';
import { segmenterHandler } from './handler.ts';
import { ShardLeases } from './leases.ts';
import { createSegmenterMetrics } from './metrics.ts';
import { startRelay } from './relay.ts';
import { startScheduler } from './scheduler.ts';
import { RfmFollower } from './rfm.ts';
import { segmentKeys } from './store/keys.ts';
import { checkShardsAtStart, type ShardCheckOptions } from './store/placement.ts';
import { MembershipStore } from './store/store.ts';

export interface RunningSegmenter {
  log: Logger;
  opsPort: number;
  defs: readonly SegmentDefinition[];
  memberships: MembershipStore;
  /** The RFM breakpoints followed (the definitions evaluated now: `rfm.defs`). */
  rfm: RfmFollower;
  stop(): Promise<void>;
}

export async function startSegmenter(
  cfg: SegmenterConfig,
  o: { now?: () => number; onShardMismatch?: ShardCheckOptions['onMismatch'] } = {},
): Promise<RunningSegmenter> {
  const now = o.now ?? Date.now;
  // Definitions first: an invalid file stops the start with file, path and reason.
  const defs = await loadDefinitions(cfg.segmentsDir, { params: cfg.params, each: { tier: cfg.loyaltyTiers } });
  const { log, topics, kafka, producer, registry } = await serviceParts(cfg);
  const redis = createRedis(cfg.conn.redis.url);
  redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection problem'));
  // The shard count its state is placed with: another one refused (the start fails, or later the service ends).
  const shardCheck = await checkShardsAtStart({
    redis,
    key: segmentKeys(cfg.redisPrefix).shards,
    shards: cfg.shards,
    log,
    ...(o.onShardMismatch ? { onMismatch: o.onShardMismatch } : {}),
  }).catch(async (err: unknown) => {
    redis.disconnect();
    await producer.disconnect();
    throw err;
  });
  const placement = { prefix: cfg.redisPrefix, shards: cfg.shards, placed: shardCheck.checked };
  const memberships = new MembershipStore(redis, placement);
  const profiles = new ProfileStore({ redis, prefix: cfg.redisPrefix, windowMs: 1, now });
  const kit = createKitMetrics(cfg.service);
  const metrics = createSegmenterMetrics(kit.registry);

  let stopping = false;
  // Recorded in the background: Redis being down at start must not stop the start (every role waits for it itself).
  const recorded = (async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        const stale = await recordDefinitions(redis, memberships.keys, defs);
        if (stale.length)
          log.warn(
            { segments: stale },
            `definitions new or changed since their last backfill: run \`profile-stream segments backfill <id>\` for ${stale.join(', ')} (until then a profile is re-evaluated on its next change)`,
          );
        return;
      } catch (err) {
        if (stopping) return;
        if (attempt === 1) log.warn({ err: err instanceof Error ? err.message : String(err) }, 'redis not reachable yet; waiting');
        await new Promise((r) => setTimeout(r, Math.min(250 * attempt, 2000)));
      }
    }
  })();

  const stops: (() => Promise<void>)[] = [
    () => {
      stopping = true;
      shardCheck.stop();
      return recorded;
    },
  ];
  // The RFM breakpoints before the first evaluation; only the evaluate role scores, so only it re-scores.
  const rfm = new RfmFollower({
    mode: cfg.roles.has('evaluate') ? cfg.rfmBreakpoints : 'static',
    loaded: defs,
    versions: new RfmVersions(redis, cfg.redisPrefix),
    pollMs: cfg.rfmPollMs,
    owner: cfg.instanceId,
    log,
    rescore: (changed: readonly SegmentDefinition[]) => backfill(changed, { profiles, memberships, now }),
  });
  await rfm.start();
  stops.push(() => rfm.stop());
  let consumer: RunningConsumer | undefined;
  if (cfg.roles.has('evaluate')) {
    consumer = await startConsumer({
      kafka,
      producer,
      logger: log,
      metrics: kit,
      service: cfg.service,
      groupId: cfg.groupId,
      topics: [topics['profile-changes'].topic, topics['profile-erased'].topic],
      chunkSize: cfg.chunkSize,
      partitionsConsumedConcurrently: cfg.partitionsConcurrently,
      handler: segmenterHandler({
        get defs() {
          return rfm.defs; // read at every evaluation: a new RFM version applies from the next one
        },
        registry,
        topics,
        memberships,
        profiles,
        accounts: new AccountStore(redis, cfg.redisPrefix),
        metrics,
        log,
        now,
      }),
    });
    stops.push(() => consumer!.stop());
  }
  // The relay and the scheduler work on a connection of their own, and leases renew on another: a reply on one
  // connection comes after the replies to everything sent before it, and the evaluate role sends a chunk's applies
  // at once (under load their replies take hundreds of ms: a relay's acknowledgement or a renewal must not wait).
  const shardWorkers = cfg.roles.has('relay') || cfg.roles.has('schedule');
  const leaseRedis = shardWorkers ? redis.duplicate() : undefined;
  const workerRedis = shardWorkers ? redis.duplicate() : undefined;
  leaseRedis?.on('error', () => undefined);
  workerRedis?.on('error', () => undefined);
  const workerStore = workerRedis ? new MembershipStore(workerRedis, placement) : memberships;
  const leases = (name: 'relay' | 'scheduler') =>
    new ShardLeases(leaseRedis!, {
      key: (s) => memberships.keys.shard(s).lease[name],
      shards: cfg.shards,
      owner: cfg.instanceId,
      ttlMs: cfg.leaseMs,
      log,
      name,
    });
  if (cfg.roles.has('relay')) {
    const blocking = redis.duplicate({ enableAutoPipelining: false }); // XREAD BLOCK holds a connection
    blocking.on('error', () => undefined);
    const owned = leases('relay');
    await owned.start();
    const hops = kit.hops(topics['segment-membership-changed'].topic);
    const relay = startRelay({ blocking, memberships: workerStore, leases: owned, registry, topics, producer, metrics, log, now, hops });
    stops.push(async () => {
      await relay.stop();
      await owned.stop();
      blocking.disconnect();
    });
  }
  if (cfg.roles.has('schedule')) {
    const owned = leases('scheduler');
    await owned.start();
    const scheduler = startScheduler({ memberships: workerStore, leases: owned, registry, topics, producer, metrics, log, now, tickMs: cfg.tickMs });
    stops.push(async () => {
      await scheduler.stop();
      await owned.stop();
    });
  }
  const ops = await startOpsServer({
    port: cfg.opsPort,
    registry: kit.registry,
    checks: {
      ...(consumer ? { kafka: () => consumer!.healthy() } : {}),
      redis: async () => (await redis.ping()) === 'PONG',
    },
  });
  log.info(
    { roles: [...cfg.roles], segments: defs.length, shards: cfg.shards, ops: ops.port, rfm: cfg.rfmBreakpoints, rfm_version: rfm.version },
    'segmenter started',
  );
  return {
    log,
    opsPort: ops.port,
    defs,
    memberships,
    rfm,
    async stop() {
      for (const s of stops) await s();
      await producer.disconnect();
      await ops.close();
      leaseRedis?.disconnect();
      workerRedis?.disconnect();
      redis.disconnect();
    },
  };
}
