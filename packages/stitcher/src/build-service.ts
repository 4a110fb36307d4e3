/**
 * A stitcher service from its config: the dependencies are built here and passed explicitly
 * (no module-level singletons), then consumer-kit runs the handler.
 */
import { createKitMetrics, type Logger, type RunningConsumer, serviceParts, startConsumer, startOpsServer } from '@profile-stream/consumer-kit';
import { AccountStore, createRedis, ProfileStore, type Gate } from '@profile-stream/profile';
import type { StitcherConfig } from './config.ts';
import { stitcherHandler } from './handler.ts';
import { listenForErasures } from './erasures.ts';
import { createStitcherMetrics } from './metrics.ts';
import { prepareStep } from './steps/prepare.ts';
import { sweepMerges } from './sweep.ts';

/** Fault tests: a gate that kills this process with SIGKILL at a step (its n-th time), as a crash there would. */
function killGate(at: { step: string; n: number }): Gate {
  let seen = 0;
  return (step) => {
    if (step === at.step && ++seen === at.n) process.kill(process.pid, 'SIGKILL');
  };
}

export interface RunningStitcher {
  consumer: RunningConsumer;
  opsPort: number;
  log: Logger;
  /** Current metric values (name, labels, value), for the demo and tests. */
  metrics(): Promise<{ name: string; labels: Record<string, string>; value: number }[]>;
  stop(): Promise<void>;
}

export async function startStitcher(cfg: StitcherConfig, o: { now?: () => number } = {}): Promise<RunningStitcher> {
  const now = o.now ?? Date.now;
  const { log, topics, kafka, producer, registry } = await serviceParts(cfg);
  const redis = createRedis(cfg.conn.redis.url);
  redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection problem'));
  const kit = createKitMetrics(cfg.service);
  const metrics = createStitcherMetrics(kit.registry);
  const store = new ProfileStore({
    redis,
    prefix: cfg.redisPrefix,
    windowMs: cfg.windowMs,
    now,
    identityCacheSize: cfg.identityCacheSize,
    foldCacheSize: cfg.profileCacheSize,
    foldCacheTtlMs: cfg.profileCacheTtlMs,
    ...(cfg.killAt ? { gate: killGate(cfg.killAt) } : {}),
    onFoldRound: (base, result) => metrics.foldRounds.inc({ base, result }),
  });
  const accounts = new AccountStore(redis, cfg.redisPrefix);
  const blocklist = new Set(cfg.junkIds.map((s) => s.toLowerCase()));
  const prepare = prepareStep({
    registry,
    topicIds: new Map(cfg.topicIds.map((id) => [topics[id].topic, id])),
    defaultRegion: cfg.defaultRegion,
    blocklist,
    maxFutureMs: cfg.maxFutureMs,
    loyaltyTiers: cfg.loyaltyTiers,
    metrics,
    now,
  });
  // Before the first fold: every erasure published from now on reaches this process (erasures.ts).
  const erasures = await listenForErasures({ kafka, topics, registry, store, log, groupId: cfg.groupId, forgotten: metrics.erasuresForgotten });
  const consumer = await startConsumer({
    kafka,
    producer,
    logger: log,
    metrics: kit,
    service: cfg.service,
    groupId: cfg.groupId,
    topics: cfg.topicIds.map((id) => topics[id].topic),
    chunkSize: cfg.chunkSize,
    partitionsConsumedConcurrently: cfg.partitionsConcurrently,
    sessionTimeout: cfg.sessionTimeoutMs,
    maxBytesPerPartition: 1 << 20,
    maxBytes: 32 << 20,
    ...(cfg.fetchMinBytes > 1 ? { fetchMinBytes: cfg.fetchMinBytes, fetchMaxWaitMs: cfg.fetchMaxWaitMs } : {}),
    handler: stitcherHandler({ prepare, store, accounts, registry, topics, producer, metrics, log, now }),
  });
  // Merges another process left unfinished: at start, then every sweepMs (those decided at least sweepMs ago); one
  // sweep at a time.
  let sweeping: Promise<unknown> | undefined;
  const sweep = (olderThanMs: number) => {
    sweeping ??= sweepMerges({ store, registry, topics, producer, log, now }, olderThanMs)
      .catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'merge sweep failed; next time'))
      .finally(() => {
        sweeping = undefined;
      });
  };
  const sweeper = cfg.sweepMs > 0 ? setInterval(() => sweep(cfg.sweepMs), cfg.sweepMs) : undefined;
  if (cfg.sweepMs > 0) sweep(cfg.sweepMs);
  const ops = await startOpsServer({
    port: cfg.opsPort,
    registry: kit.registry,
    checks: { kafka: () => consumer.healthy(), redis: async () => (await redis.ping()) === 'PONG' },
  });
  log.info({ topics: cfg.topicIds.map((id) => topics[id].topic), group: cfg.groupId, ops: ops.port }, 'stitcher started');
  return {
    consumer,
    opsPort: ops.port,
    log,
    async metrics() {
      const all = await kit.registry.getMetricsAsJSON();
      return all.flatMap((m) =>
        (m.values ?? []).map((v) => ({
          name: m.name,
          labels: Object.fromEntries(Object.entries(v.labels ?? {}).map(([k, x]) => [k, String(x)])),
          value: Number(v.value),
        })),
      );
    },
    async stop() {
      clearInterval(sweeper);
      await consumer.stop();
      await erasures.stop();
      await sweeping;
      await producer.disconnect();
      await ops.close();
      redis.disconnect();
    },
  };
}
