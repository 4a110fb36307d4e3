/**
 * `bench clients`' latency phase: for one client and rate, its consumer and then its producer, each in a child process
 * (client-child.ts) leading a process group of its own, so that neither shares an event loop with the other or with
 * the bench. The children are stopped (SIGTERM to their groups, SIGKILL after 10 s) when a run ends, when the bench is
 * interrupted with SIGINT or SIGTERM (it then exits 130 / 143), and killed if it exits any other way.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '@profile-stream/consumer-kit';
import type { ChildReport, LatencyJob } from './client-child.ts';
import type { ClientName, OutRecord } from './client-drivers.ts';
import { type Metered, meterCpu } from './cpu.ts';

/** Settles with `p`, or fails after `ms` naming `what`. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bench clients: ${what} did not finish in ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface LatencyOptions {
  seconds: number;
  handlerMs: number;
  fetchWaitMs?: number | undefined;
}

const pct = (cpu: number, wall: number) => (100 * cpu) / wall;

const CHILD = fileURLToPath(new URL('./client-child.ts', import.meta.url));
const running = new Set<ChildProcess>();

function signalGroup(c: ChildProcess, sig: NodeJS.Signals): void {
  if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
  try {
    process.kill(-c.pid, sig);
  } catch {
    // the group is already gone
  }
}

/** Stops every child still running and waits for them. */
export async function stopChildren(): Promise<void> {
  const live = [...running];
  for (const c of live) signalGroup(c, 'SIGTERM');
  const kill = setTimeout(() => {
    for (const c of live) signalGroup(c, 'SIGKILL');
  }, 10_000);
  await Promise.all(live.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : undefined)));
  clearTimeout(kill);
}

let hooked = false;
function hookSignals(): void {
  if (hooked) return;
  hooked = true;
  const interrupt = (sig: NodeJS.Signals) => {
    process.stderr.write(`bench clients: ${sig}: stopping ${running.size} child process(es) (profile-stream stack clean removes the topics it left)\n`);
    void stopChildren().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  process.once('exit', () => {
    for (const c of running) signalGroup(c, 'SIGKILL');
  });
}

interface Child {
  /** Its report of `type` (failing if the child fails or exits before it, or after `ms`). */
  report(type: ChildReport['type'], ms: number): Promise<ChildReport>;
  send(message: { type: 'go' }): void;
}

/** A child leading its own process group, given its job. */
function spawnChild(name: string, job: LatencyJob): Child {
  hookSignals();
  const child = fork(CHILD, [], {
    cwd: REPO_ROOT,
    detached: true,
    serialization: 'advanced',
    execArgv: ['--disable-warning=ExperimentalWarning', '--disable-warning=TimeoutNegativeWarning'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  running.add(child);
  const got = new Map<string, ChildReport>();
  const waiting = new Set<{ type: string; resolve: (r: ChildReport) => void; reject: (e: Error) => void }>();
  let failure: Error | undefined;
  const fail = (e: Error) => {
    failure ??= e;
    for (const w of waiting) w.reject(failure);
    waiting.clear();
  };
  child.on('message', (r: ChildReport) => {
    if (r.type === 'failed') return fail(new Error(`${name}: ${r.error}`));
    got.set(r.type, r);
    for (const w of waiting) if (w.type === r.type) w.resolve(r);
  });
  child.once('close', (code, sig) => {
    running.delete(child);
    fail(new Error(`${name} exited (${sig ?? code})`));
  });
  child.send(job);
  const report = (type: ChildReport['type'], ms: number) =>
    within(
      new Promise<ChildReport>((resolve, reject) => {
        const known = got.get(type);
        if (known) resolve(known);
        else if (failure) reject(failure);
        else waiting.add({ type, resolve, reject });
      }),
      ms,
      `${name}: ${type}`,
    );
  return { report, send: (m) => child.connected && child.send(m) };
}

export interface LatencyRun {
  achievedRate: number;
  consumed: number;
  latencies: number[];
  fetches: number;
  consumerPct: number;
  producerPct: number;
  brokerPct: number;
}

export interface LatencySpec {
  client: ClientName;
  brokers: string[];
  topic: string;
  rate: number;
  records: OutRecord[];
  broker: Metered[];
}

export async function latencyRun(s: LatencySpec, o: LatencyOptions): Promise<LatencyRun> {
  const { client, brokers, topic } = s;
  const expect = s.rate * o.seconds;
  const { fetchWaitMs, handlerMs } = o;
  const consumer = spawnChild(`${client} consumer`, { role: 'consumer', client, brokers, topic, fetchWaitMs, groupId: `${topic}.group`, expect, handlerMs });
  await consumer.report('ready', 90_000);
  const producer = spawnChild(`${client} producer`, {
    role: 'producer',
    client,
    brokers,
    topic,
    fetchWaitMs,
    rate: s.rate,
    seconds: o.seconds,
    records: s.records,
  });
  const produced = producer.report('produced', o.seconds * 1000 + 120_000);
  const consumed = consumer.report('consumed', o.seconds * 1000 + 120_000);
  produced.catch(() => undefined);
  consumed.catch(() => undefined);
  await producer.report('started', 90_000);
  const broker = meterCpu(s.broker);
  consumer.send({ type: 'go' }); // the consumer's measured window starts
  const p = (await produced) as Extract<ChildReport, { type: 'produced' }>;
  const k = (await consumed) as Extract<ChildReport, { type: 'consumed' }>;
  const brokerPct = Number(broker.read()[0]?.['% of a core'] ?? Number.NaN);
  await stopChildren();
  return {
    achievedRate: p.achievedRate,
    consumed: k.count,
    latencies: k.latencies,
    fetches: k.fetches,
    consumerPct: pct(k.cpuMs, k.wallMs),
    producerPct: pct(p.cpuMs, p.wallMs),
    brokerPct,
  };
}
