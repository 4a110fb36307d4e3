/**
 * `bench clients`' latency phase: for one client and rate, its consumer and then its producer, each in a child process
 * (client-child.ts) leading a process group of its own (children.ts), so that neither shares an event loop with the other or with
 * the bench. The children are stopped (SIGTERM to their groups, SIGKILL after 10 s) when a run ends, when the bench is
 * interrupted with SIGINT or SIGTERM (it then exits 130 / 143), and killed if it exits any other way.
 */
import { fileURLToPath } from 'node:url';
import { type BenchChild, forkChild, stopGroups, within as settleWithin } from './children.ts';
import type { ChildReport, LatencyJob } from './client-child.ts';
import type { ClientName, OutRecord } from './client-drivers.ts';
import { type Metered, meterCpu } from './cpu.ts';

/** Settles with `p`, or fails after `ms` naming `what`. */
export const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> => settleWithin(p, ms, `bench clients: ${what}`);

export interface LatencyOptions {
  seconds: number;
  handlerMs: number;
  fetchWaitMs?: number | undefined;
}

const pct = (cpu: number, wall: number) => (100 * cpu) / wall;

const CHILD = fileURLToPath(new URL('./client-child.ts', import.meta.url));
/** Stops every child still running and waits for them. */
export const stopChildren = (): Promise<void> => stopGroups();

/** A child leading its own process group, given its job. */
const spawnChild = (name: string, job: LatencyJob): BenchChild<ChildReport> => forkChild<ChildReport>({ path: CHILD, name, label: 'bench clients', job });

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
  const p = await produced;
  const k = await consumed;
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
