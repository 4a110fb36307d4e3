/**
 * `profile-stream stack up|down|status`: the local Kafka, schema registry (+ its PostgreSQL), Redis and
 * ClickHouse. Idempotent: parts already running (our pid file, answering) are left alone; downloads
 * happen once into the cache dir. `down` stops exactly the processes `up` started (pid files).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Connections, Logger } from '@profile-stream/consumer-kit';
import { clickhouseComponent } from './clickhouse.ts';
import type { Component, ComponentContext } from './component.ts';
import { kafkaComponent } from './kafka.ts';
import { assertPortFree, livePid, stopPid, waitFor } from './proc.ts';
import { redisComponent } from './redis.ts';
import { registryComponent, registryDbComponent } from './registry.ts';

export interface Stack {
  ctx: ComponentContext;
  parts: Record<'redis' | 'registryDb' | 'kafka' | 'registry' | 'clickhouse', Component>;
}

export function createStack(conn: Connections, log: Logger): Stack {
  const ctx: ComponentContext = { conn, log, runDir: join(conn.dataDir, 'run'), logDir: join(conn.dataDir, 'logs') };
  return {
    ctx,
    parts: {
      redis: redisComponent(ctx),
      registryDb: registryDbComponent(ctx),
      kafka: kafkaComponent(ctx),
      registry: registryComponent(ctx),
      clickhouse: clickhouseComponent(ctx),
    },
  };
}

export type PartState = 'started' | 'running' | 'external';
const PORT_VARS: Record<string, string> = {
  kafka: 'KAFKA_PORT',
  'schema-registry': 'SCHEMA_REGISTRY_PORT',
  'registry-postgres': 'REGISTRY_POSTGRES_PORT',
  redis: 'REDIS_PORT',
};

/**
 * Brings one part up (or confirms it is up). Returns what it did. Fails with `tool_missing` (fetch), `port_in_use` (its
 * port is taken by a process it did not start) or `stack_not_ready` (not answering within `timeoutMs`).
 */
export async function bringUp(part: Component, timeoutMs: number, before?: Promise<unknown>): Promise<PartState> {
  if (part.external || !part.managed) {
    await waitFor(`${part.name}${part.external ? ' (external)' : ''}`, () => part.ready(), 15_000);
    return part.external ? 'external' : 'running';
  }
  await part.fetch();
  if (livePid(part.pidFile) !== undefined) {
    await waitFor(part.name, () => part.ready(), timeoutMs, part.logFile);
    return 'running';
  }
  if (part.port !== undefined) await assertPortFree(part.port, part.name, PORT_VARS[part.name] ?? 'its port variable');
  await before;
  await part.start();
  await waitFor(
    part.name,
    async () => {
      if (livePid(part.pidFile) === undefined) throw new Error(`${part.name} exited`);
      return part.ready();
    },
    timeoutMs,
    part.logFile,
  );
  return 'started';
}

export interface UpResult {
  states: Record<string, PartState>;
  seconds: number;
}

export async function stackUp(stack: Stack): Promise<UpResult> {
  const t0 = performance.now();
  const { parts, ctx } = stack;
  mkdirSync(ctx.runDir, { recursive: true });
  mkdirSync(ctx.logDir, { recursive: true });
  // Fetch the slow ones in parallel with starting the quick ones.
  const db = bringUp(parts.registryDb, 60_000);
  const [redis, kafka, registryDb, registry, clickhouse] = await Promise.all([
    bringUp(parts.redis, 30_000),
    bringUp(parts.kafka, 120_000),
    db,
    bringUp(parts.registry, 60_000, db),
    bringUp(parts.clickhouse, 30_000),
  ]);
  return {
    states: { redis, kafka, 'registry-postgres': registryDb, 'schema-registry': registry, clickhouse },
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Stops what this stack started, in reverse dependency order. Returns the names it stopped. */
export async function stackDown(stack: Stack, only?: string[]): Promise<string[]> {
  const order = [stack.parts.registry, stack.parts.kafka, stack.parts.registryDb, stack.parts.redis];
  const stopped: string[] = [];
  for (const part of order) {
    if (only && !only.includes(part.name)) continue;
    if (await stopPid(part.pidFile)) stopped.push(part.name);
  }
  return stopped;
}

export interface PartStatus {
  name: string;
  state: 'up' | 'down' | 'not answering' | 'external';
  pid: number | undefined;
  port: number | undefined;
  version: string;
  log: string | undefined;
}

export async function stackStatus(stack: Stack): Promise<PartStatus[]> {
  const out: PartStatus[] = [];
  for (const part of Object.values(stack.parts)) {
    const pid = livePid(part.pidFile);
    let answering = false;
    try {
      answering = Boolean(await part.ready());
    } catch {
      answering = false;
    }
    const state = part.external ? 'external' : !part.managed ? (answering ? 'up' : 'down') : pid === undefined ? 'down' : answering ? 'up' : 'not answering';
    out.push({
      name: part.name,
      state,
      pid,
      port: part.port,
      version: part.version(),
      log: part.managed && existsSync(part.logFile) ? part.logFile : undefined,
    });
  }
  return out;
}
