/**
 * What a benchmark reports about a measured phase besides its own figures: per service, where the time went (its
 * hop histograms, scraped from /metrics before and after), and the CPU each process used (the services, the bench
 * itself, Kafka, Redis and the registry).
 */
import { type Metered, meterCpu, stackProcesses } from './cpu.ts';
import { hopDelta, hopRows, type HopSnapshot, scrapeHops } from './hops.ts';
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
  hops(): Promise<{ service: string; rows: Record<string, string | number>[] }[]>;
}

/** A service just started may not listen yet: its first scrape is retried for up to 30 s. */
async function firstScrape(s: ProbedService): Promise<HopSnapshot> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await scrapeHops(s.opsPort);
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${s.name}: /metrics on port ${s.opsPort} did not answer in 30 s`, { cause: err });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** `children`: the bench's own child processes (its load generator, its observers), metered beside the services. */
export async function startProbe(o: { services: readonly ProbedService[]; dataDir: string; bench?: string; children?: readonly Metered[] }): Promise<Probe> {
  const before: HopSnapshot[] = await Promise.all(o.services.map((s) => firstScrape(s)));
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
    hops: () => Promise.all(o.services.map(async (s, i) => ({ service: s.name, rows: hopRows(hopDelta(await scrapeHops(s.opsPort), before[i]!)) }))),
  };
}

export function printCpu(title: string, rows: Record<string, string | number>[]): void {
  process.stdout.write(`\n${title}:\n`);
  printTable(rows);
}

export function printHops(title: string, tables: { service: string; rows: Record<string, string | number>[] }[]): void {
  for (const t of tables) {
    process.stdout.write(
      `\n${title}, ${t.service}: where the time goes (ps_hop_seconds; percentiles interpolated within doubling buckets; ` +
        'share = of the cycle, for the hops a partition goes through one after another and the handler phases inside handle):\n',
    );
    printTable(t.rows.length ? t.rows : [{ hop: '(no hops recorded)' }]);
  }
}
