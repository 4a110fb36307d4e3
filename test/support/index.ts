/**
 * Shared test support: every test gets its own topic prefix (so files run in parallel without colliding),
 * the real stack's connections, and helpers to poll for effects instead of sleeping.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { ContractsRegistry, resolveTopics, type TopicTable } from '@profile-stream/contracts';
import { createKafka, createLogger, loadConnections, REPO_ROOT, type Connections, type KafkaClient, type Logger } from '@profile-stream/consumer-kit';
import { provision } from '@profile-stream/infra';

export const CLI_MAIN = resolve(REPO_ROOT, 'packages/cli/src/main.ts');
export const NODE_FLAGS = ['--disable-warning=ExperimentalWarning', '--disable-warning=TimeoutNegativeWarning'];

export interface TestEnv {
  conn: Connections;
  log: Logger;
  prefix: string;
  topics: TopicTable;
  registry: ContractsRegistry;
  kafka: KafkaClient;
  /** Environment for child processes (CLI, services) that makes them use this test's topics. */
  childEnv: NodeJS.ProcessEnv;
}

/** A fresh prefix, its topics provisioned (schemas registered, topics and DLQs created). */
export async function testEnv(name: string): Promise<TestEnv> {
  const conn = loadConnections(process.env);
  const log = createLogger({ name: `test-${name}`, level: 'warn' });
  const prefix = `t-${name}-${randomBytes(3).toString('hex')}.`;
  const topics = resolveTopics({ prefix });
  await provision(conn, topics, log);
  const childEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
  for (const t of Object.values(topics)) childEnv[t.envVar] = t.topic;
  return {
    conn,
    log,
    prefix,
    topics,
    registry: new ContractsRegistry({ host: conn.registry.url, topics }),
    kafka: createKafka({ brokers: conn.kafka.brokers, clientId: `test-${name}`, logger: log }),
    childEnv,
  };
}

/** Polls `check` until it returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Runs the CLI to completion. */
export function runCli(args: string[], o: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [...NODE_FLAGS, CLI_MAIN, ...args], {
    cwd: REPO_ROOT,
    env: o.env ?? process.env,
    input: o.input,
    encoding: 'utf8',
    timeout: o.timeoutMs ?? 120_000,
    maxBuffer: 256 << 20,
  });
}

/** A topic's dead letters as `profile-stream dlq list <topic> --json` prints them (the CLI must succeed). */
export function dlqList<T = { reason: string }>(topic: string, env: NodeJS.ProcessEnv): T[] {
  const r = runCli(['dlq', 'list', topic, '--json'], { env });
  if (r.status !== 0) throw new Error(`dlq list ${topic} exited ${r.status}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}

/** What a CLI run in a child process printed, and how it ended. */
export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in a child process until it exits (a benchmark: long, and interruptible), collecting its output;
 * `onStderr` sees the whole stderr so far at each chunk (to act on progress, e.g. send a signal).
 */
export async function spawnCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  onStderr?: (stderr: string, child: ReturnType<typeof spawnTs>) => void,
): Promise<ChildRun> {
  const child = spawnTs(CLI_MAIN, args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    onStderr?.(stderr, child);
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr };
}

/** Starts a TS entry point as a child process (for kill -9 and signal tests). */
export function spawnTs(file: string, args: string[], env: NodeJS.ProcessEnv) {
  return spawn(process.execPath, [...NODE_FLAGS, file, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
}
