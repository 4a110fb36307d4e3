/**
 * Consumer lag over time during a benchmark: every second, each group's committed offsets against the end of its topic
 * (records not yet committed, summed over partitions), from the broker (not the service's own gauge, which moves only
 * when it commits). The trend over the second half of the load phase (the first fills the pipeline from empty) says
 * whether the pipeline keeps up: flat, or growing.
 */
import type { Admin } from 'kafkajs';
import type { KafkaClient } from '@profile-stream/consumer-kit';

export interface LagTarget {
  name: string;
  group: string;
  topic: string;
}

async function lagOf(admin: Admin, t: LagTarget): Promise<number> {
  const ends = await admin.fetchTopicOffsets(t.topic);
  const [committed] = await admin.fetchOffsets({ groupId: t.group, topics: [t.topic] });
  let lag = 0n;
  for (const e of ends) {
    const c = BigInt(committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1');
    lag += BigInt(e.high) - (c < 0n ? BigInt(e.low) : c);
  }
  return Number(lag);
}

/** Least-squares slope of `ys` sampled once a second: records per second. */
export function slopePerSecond(ys: readonly number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

export interface LagSampler {
  /** Marks the end of the load phase (the trend is taken over the second half of the samples before it). */
  loadEnded(): void;
  /** Stops sampling; one row per target: the series and the trend during the load. */
  stop(rate: number): Promise<Record<string, string | number>[]>;
}

export async function sampleLag(kafka: KafkaClient, targets: readonly LagTarget[], everyMs = 1000): Promise<LagSampler> {
  const admin = kafka.admin();
  await admin.connect();
  const series = targets.map(() => [] as number[]);
  let loadSamples = Number.POSITIVE_INFINITY;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = Date.now();
      // A broker busy under the load may fail a sample: it shows as a gap (NaN) in the series, not as zero.
      const lags = await Promise.all(targets.map((t) => lagOf(admin, t).catch(() => Number.NaN)));
      for (const [i, l] of lags.entries()) series[i]!.push(l);
      await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - t0))));
    }
  })();
  return {
    loadEnded() {
      loadSamples = series[0]!.length;
    },
    async stop(rate) {
      running = false;
      await loop;
      await admin.disconnect();
      return targets.map((t, i) => {
        const all = series[i]!;
        const load = all.slice(0, Math.min(all.length, loadSamples)).filter((x) => !Number.isNaN(x));
        const slope = slopePerSecond(load.slice(Math.floor(load.length / 2)));
        // Flat: the backlog grows by less than 2 % of the input rate per second (noise of batching and commits).
        const trend = Math.abs(slope) < 0.02 * rate ? 'flat' : slope > 0 ? 'growing' : 'shrinking';
        return {
          consumer: t.name,
          'max lag': Math.max(0, ...load),
          'trend, 2nd half of the load': `${trend} (${slope >= 0 ? '+' : ''}${Math.round(slope)} records/s)`,
          'lag each second (records; | = load ended)': [...all.slice(0, loadSamples), '|', ...all.slice(loadSamples)].join(' '),
        };
      });
    },
  };
}
