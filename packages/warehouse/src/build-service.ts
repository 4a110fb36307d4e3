/**
 * The warehouse service from its config: ClickHouse (embedded chDB owning its data directory, or a server when
 * CLICKHOUSE_URL is set), migrations, the batch sink, one consumer group over all seven topics, and the ops
 * server (/health, /metrics and read-only SQL). Dependencies are built here and passed explicitly.
 */
import { hostname } from 'node:os';
import { openClickHouse, type ClickHouseClient } from '@profile-stream/clickhouse';
import { createKitMetrics, serviceParts, startConsumer, startOpsServer, type Logger, type RunningConsumer } from '@profile-stream/consumer-kit';
import { createRedis } from '@profile-stream/profile';
import { RfmVersions } from '@profile-stream/segments';
import type { WarehouseConfig } from './config.ts';
import { WAREHOUSE_TOPICS, warehouseHandler } from './handler.ts';
import { createWarehouseMetrics } from './metrics.ts';
import { applyClickstreamTtl, migrate } from './migrations.ts';
import { piiStorer, tombstoner } from './pii.ts';
import { clickHouseHttp } from './query.ts';
import { computeRfmVersion, startRfmSchedule } from './rfm.ts';
import { BatchSink } from './sink.ts';

export interface RunningWarehouse {
  consumer: RunningConsumer;
  client: ClickHouseClient;
  mode: 'embedded' | 'server';
  opsPort: number;
  log: Logger;
  stop(): Promise<void>;
}

export interface WarehouseDeps {
  /** A ClickHouse client to use instead of opening one (tests wrap it to inject faults). */
  client?: ClickHouseClient;
  now?: () => number;
}

/** Opens ClickHouse for the warehouse and brings the schema up to date (a failing migration throws `migration_failed`). */
export async function openWarehouseDb(
  cfg: WarehouseConfig,
  log: Logger,
  client?: ClickHouseClient,
): Promise<{ client: ClickHouseClient; mode: 'embedded' | 'server' }> {
  const h = client
    ? { client, mode: cfg.conn.clickhouse.url ? ('server' as const) : ('embedded' as const) }
    : openClickHouse({ url: cfg.conn.clickhouse.url, dataDir: cfg.dataDir });
  try {
    await migrate(h.client, { database: cfg.database, dir: cfg.migrationsDir, log });
    await applyClickstreamTtl(h.client, cfg.database, cfg.clickstreamTtlDays);
    // Embedded: the session's default database, so analysts' unqualified table names resolve (server: the URL's).
    if (h.mode === 'embedded') await h.client.command({ query: `USE ${cfg.database}` });
  } catch (err) {
    if (!client) await h.client.close().catch(() => undefined);
    throw err;
  }
  return h;
}

export async function startWarehouse(cfg: WarehouseConfig, deps: WarehouseDeps = {}): Promise<RunningWarehouse> {
  const now = deps.now ?? Date.now;
  const { log, topics, kafka, producer, registry } = await serviceParts(cfg);
  if (cfg.pii === 'hash' && cfg.piiKeyIsDefault) log.warn('PII_HASH_KEY is not set: e-mail and phone are hashed with the development key');
  const { client, mode } = await openWarehouseDb(cfg, log, deps.client).catch(async (err: unknown) => {
    await producer.disconnect();
    throw err;
  });
  const kit = createKitMetrics(cfg.service);
  const metrics = createWarehouseMetrics(kit.registry);
  const storePii = piiStorer(cfg.pii, cfg.piiKey);
  const sink = new BatchSink({
    client,
    database: cfg.database,
    maxRows: cfg.batchRows,
    maxMs: cfg.batchMs,
    quietMs: cfg.batchQuietMs,
    log,
    metrics,
    tombstoneOf: tombstoner(cfg.pii, cfg.piiKey),
  });
  const blocklist = new Set(cfg.junkIds.map((s) => s.toLowerCase()));
  const identities = new Map();
  const consumer = await startConsumer({
    kafka,
    producer,
    logger: log,
    metrics: kit,
    service: cfg.service,
    groupId: cfg.groupId,
    topics: WAREHOUSE_TOPICS.map((id) => topics[id].topic),
    chunkSize: cfg.chunkSize,
    partitionsConsumedConcurrently: cfg.partitionsConcurrently,
    sessionTimeout: cfg.sessionTimeoutMs,
    maxBytesPerPartition: 8 << 20,
    maxBytes: 128 << 20,
    handler: warehouseHandler({
      registry,
      topics,
      sink,
      rowOptions: () => ({
        storePii,
        defaultRegion: cfg.defaultRegion,
        blocklist,
        now: now(),
        maxFutureMs: cfg.maxFutureMs,
        loyaltyTiers: cfg.loyaltyTiers,
        identities,
      }),
    }),
  });
  const ops = await startOpsServer({
    port: cfg.opsPort,
    registry: kit.registry,
    checks: { kafka: () => consumer.healthy(), clickhouse: async () => (await client.ping()).success },
    extra: mode === 'embedded' ? clickHouseHttp(client) : undefined,
  });
  const rfm = cfg.rfmRecomputeMs > 0 ? rfmSchedule(cfg, client, log, now) : undefined;
  log.info({ mode, database: cfg.database, group: cfg.groupId, ops: ops.port, batchRows: cfg.batchRows, batchMs: cfg.batchMs }, 'warehouse started');
  return {
    consumer,
    client,
    mode,
    opsPort: ops.port,
    log,
    async stop() {
      await consumer.stop(); // the chunk in hand finishes: its batch is flushed (by size or time) before the commit
      await sink.drain();
      await producer.disconnect();
      await ops.close();
      await rfm?.stop();
      if (!deps.client) await client.close();
    },
  };
}

/** The population RFM breakpoints on a schedule (rfm.ts), on a Redis connection of their own. */
function rfmSchedule(cfg: WarehouseConfig, client: ClickHouseClient, log: Logger, now: () => number): { stop(): Promise<void> } {
  const redis = createRedis(cfg.conn.redis.url);
  redis.on('error', () => undefined); // the schedule logs what fails and tries again at the next interval
  const versions = new RfmVersions(redis, cfg.redisPrefix);
  const schedule = startRfmSchedule({
    intervalMs: cfg.rfmRecomputeMs,
    versions,
    owner: `${hostname()}:${process.pid}`,
    log,
    now,
    compute: () => computeRfmVersion({ client, database: cfg.database, versions, now: now(), minCustomers: cfg.rfmMinCustomers }),
  });
  return {
    async stop() {
      await schedule.stop();
      redis.disconnect();
    },
  };
}
