/**
 * What a benchmark reports about a measured phase besides its own figures: per service, where the time went (its
 * hop histograms, scraped from /metrics before and after), and the CPU each process used (the services, the bench
 * itself, Kafka, Redis and the registry).
 */
import { cpus } from 'node:os';
import { type Metered, meterCpu, stackProcesses } from './cpu.ts';
import { hostSpeedLine } from './host-speed.ts';
import { hopDelta, hopRows, roundsLine, type ServiceSnapshot, scrapeService } from './hops.ts';
import { printTable } from '../table.ts';

export interface ProbedService {
  name: string;
  opsPort: number;
  /** Its own process; undefined when it runs inside the bench process (its CPU is the bench's). */
  pid: number | undefined;
}

export interface Probe {
  /** Starts the CPU count again from now (when the load begins after the probe started). */
  restartCpu(): void;
  /** CPU per process since the probe started (read it when the load ends, before the drain). */
  cpu(): Record<string, string | number>[];
  /** Per service, its hops since the probe started (read it when the pipeline has drained). */
  hops(): Promise<ServiceHops[]>;
}

/** A service's hops over a phase and, for a stitcher, its fold rounds ('' when it folded nothing). */
export interface ServiceHops {
  service: string;
  rows: Record<string, string | number>[];
  rounds: string;
}

/** A service just started may not listen yet: its first scrape is retried for up to 30 s. */
async function firstScrape(s: ProbedService): Promise<ServiceSnapshot> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await scrapeService(s.opsPort);
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${s.name}: /metrics on port ${s.opsPort} did not answer in 30 s`, { cause: err });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** `children`: the bench's own child processes (its load generator, its observers), metered beside the services. */
export async function startProbe(o: { services: readonly ProbedService[]; dataDir: string; bench?: string; children?: readonly Metered[] }): Promise<Probe> {
  const before: ServiceSnapshot[] = await Promise.all(o.services.map((s) => firstScrape(s)));
  const procs: Metered[] = [
    { name: o.bench ?? 'bench', pid: undefined },
    ...o.services.flatMap((s) => (s.pid === undefined ? [] : [{ name: s.name, pid: s.pid }])),
    ...(o.children ?? []),
    ...stackProcesses(o.dataDir),
  ];
  let cpu = meterCpu(procs);
  return {
    restartCpu: () => {
      cpu = meterCpu(procs);
    },
    cpu: () => cpu.read(),
    hops: () =>
      Promise.all(
        o.services.map(async (s, i) => {
          const now = await scrapeService(s.opsPort);
          return { service: s.name, rows: hopRows(hopDelta(now.hops, before[i]!.hops)), rounds: roundsLine(now.rounds, before[i]!.rounds) };
        }),
      ),
  };
}

export function printCpu(title: string, rows: Record<string, string | number>[]): void {
  process.stdout.write(`\n${title}:\n`);
  printTable(rows);
  process.stdout.write(`measured on ${machineCpus()}\n${hostSpeedLine()}\n`);
}

/**
 * The CPUs the figures were measured on: hosts of the same machine kind differ (issue 12, seventh round: the same
 * code and bench used 40 % less CPU per event on one session's host than on earlier ones), so figures are compared
 * only with the CPU they were measured on.
 */
function machineCpus(): string {
  const c = cpus();
  const first = c[0];
  return first === undefined ? 'unknown CPUs' : `${c.length} × ${first.model.trim()}${first.speed ? ` at ${first.speed} MHz` : ''}`;
}

export function printHops(title: string, tables: readonly ServiceHops[]): void {
  for (const t of tables) {
    process.stdout.write(
      `\n${title}, ${t.service}: where the time goes (ps_hop_seconds; percentiles interpolated within doubling buckets; ` +
        'share = of the cycle, for the hops a partition goes through one after another and the handler phases inside handle):\n',
    );
    printTable(t.rows.length ? t.rows : [{ hop: '(no hops recorded)' }]);
    if (t.rounds) process.stdout.write(`fold rounds (base → answer): ${t.rounds}\n`);
  }
}
