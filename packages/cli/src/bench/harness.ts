/**
 * What the benchmarks share: a fresh topic prefix (provisioned) and Redis prefix per run, the services as child
 * processes, each in a process group of its own (children.ts: stopped with SIGTERM and drained on teardown; when the
 * bench is interrupted with SIGINT or SIGTERM, every group is stopped the same way before it exits; killed if the bench
 * exits any other way), and waits on consumer groups.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { resolveTopics, type TopicTable } from '@profile-stream/contracts';
import { committedToEnd, createKafka, REPO_ROOT, type Connections, type KafkaClient, type Logger } from '@profile-stream/consumer-kit';
import { cleanScratch, provision } from '@profile-stream/infra';
import { openClients, type Clients } from '../clients.ts';
import type { CliContext } from '../context.ts';
import { stopGroups, track } from './children.ts';
import { hostSpeedMs } from './host-speed.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP port free right now (for a service's ops server the bench scrapes). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
const NODE_FLAGS = ['--disable-warning=ExperimentalWarning', '--disable-warning=TimeoutNegativeWarning'];

export interface Bench {
  conn: Connections;
  log: Logger;
  redisUrl: string;
  /** The stack's data directory (its pid files: the bench meters Kafka's and Redis's CPU). */
  dataDir: string;
  prefix: string;
  topics: TopicTable;
  env: NodeJS.ProcessEnv;
  kafka: KafkaClient;
  clients: Clients;
  children: ChildProcess[];
  /** BENCH_CPU_PROF: where the service processes write CPU profiles. */
  cpuProfileDir: string | undefined;
}

export async function setup(ctx: CliContext, name: string, extra: NodeJS.ProcessEnv = {}): Promise<Bench> {
  hostSpeedMs(); // before any load: printed under the CPU tables
  const prefix = `bench-${name}-${randomBytes(3).toString('hex')}.`;
  const topics = resolveTopics({ prefix });
  await provision(ctx.conn, topics, ctx.log);
  const env: NodeJS.ProcessEnv = {
    ...ctx.env,
    REDIS_PREFIX: `${prefix}ps:`,
    LOG_LEVEL: 'warn',
    STITCHER_OPS_PORT: '0',
    SEGMENTER_OPS_PORT: '0',
    STITCHER_GROUP_ID: `${prefix}stitcher`,
    SEGMENTER_GROUP_ID: `${prefix}segmenter`,
    ...extra,
  };
  for (const t of Object.values(topics)) env[t.envVar] = t.topic;
  return {
    conn: ctx.conn,
    log: ctx.log,
    redisUrl: ctx.conn.redis.url,
    dataDir: ctx.conn.dataDir,
    prefix,
    topics,
    env,
    kafka: createKafka({ brokers: ctx.conn.kafka.brokers, clientId: `bench-${name}`, logger: ctx.log }),
    clients: openClients(ctx, topics),
    children: [],
    cpuProfileDir: ctx.cpuProfileDir,
  };
}

export function startService(b: Bench, name: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  return startScript(b, name, resolve(REPO_ROOT, `services/${name}/src/main.ts`), env);
}

/** A service-like script (its own process group, the bench's environment and CPU profile settings) under `name`. */
export function startScript(b: Bench, name: string, path: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const prof = b.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${b.cpuProfileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...NODE_FLAGS, ...prof, path], {
    cwd: REPO_ROOT,
    env: { ...b.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  b.children.push(child);
  return track(child, 'service');
}

/**
 * Stops the services and removes everything the run left on the stack under its prefix: Redis keys, topics and
 * consumer groups (left behind, a run's ~100k keys slowed the next runs' Redis down).
 */
export async function teardown(b: Bench): Promise<void> {
  for (const c of b.children) await stopGroups([c], 60_000);
  await b.clients.close();
  await cleanScratch(b.conn, b.log, [b.prefix]);
}

/**
 * Polls `check` every 200 ms until it returns true; an error from the broker (a coordinator still loading, a leader
 * moving: the admin client's own retries exhausted under load) counts as "not yet". Fails after `timeoutMs` with what
 * it waited for and the last error.
 */
class ServiceExited extends Error {}

async function pollAdmin(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
      last = undefined;
    } catch (err) {
      if (err instanceof ServiceExited) throw err;
      last = err;
    }
    await sleep(200);
  }
  throw new Error(
    `timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${last instanceof Error ? last.message : String(last)})` : ''}`,
  );
}

/** Waits until a group has members that were assigned every partition of its topic (services are up). */
export async function waitForGroup(kafka: KafkaClient, groupId: string, timeoutMs = 120_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await pollAdmin(`consumer group ${groupId} to become stable`, timeoutMs, async () => (await admin.describeGroups([groupId])).groups[0]?.state === 'Stable');
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until `group` has committed the end of `topic`; fails when that takes longer than `timeoutMs` or when one of
 * `services` exits meanwhile (a crashed service would never catch up).
 */
export async function caughtUp(
  kafka: KafkaClient,
  group: string,
  topic: string,
  o: { timeoutMs?: number; services?: readonly ChildProcess[] } = {},
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await pollAdmin(`consumer group ${group} to commit the end of ${topic}`, o.timeoutMs ?? 600_000, async () => {
      const dead = o.services?.find((c) => c.exitCode !== null || c.signalCode !== null);
      if (dead) throw new ServiceExited(`a service process exited (${dead.signalCode ?? `code ${dead.exitCode}`}) before ${group} caught up; its log is above`);
      return committedToEnd(kafka, group, [topic], admin);
    });
  } finally {
    await admin.disconnect();
  }
}
