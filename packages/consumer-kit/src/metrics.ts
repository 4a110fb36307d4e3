/** The kit's metrics, one registry per process, bounded label sets (topic, outcome, reason code, hop). */
import { Counter, exponentialBuckets, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The hops of a consume cycle, one declared table: the `hop` label of `ps_hop_seconds` takes only these values.
 * scope: `cycle` hops follow each other within one partition's cycle (a chunk, or a batch's first chunk for
 * fetch_wait), so their sums divide the cycle's; `handler` hops are phases inside `handle`; `message` hops are timed
 * per message while other messages of the chunk run concurrently (their sums overlap); `background` hops run after
 * the loop has moved on (a chunk's deferred effects and its commit, overlapping the next chunks); `request` and
 * `relay` are loops of their own (the consumer's fetch requests, the segmenter's outbox relay).
 */
export const HOPS = {
  fetch: { scope: 'request', meaning: 'one fetch request to the broker, sent until answered (long-polls when idle)' },
  fetch_wait: {
    scope: 'cycle',
    meaning:
      "end of a partition's last chunk, or when an idle partition's next record was produced → its batch handed to the loop (other partitions' " +
      'batches of the same fetch, then the next fetch)',
  },
  handle: { scope: 'cycle', meaning: 'the handler on one chunk, retries included' },
  prepare: { scope: 'handler', meaning: 'decode, validate and normalise every event of the chunk' },
  resolve: { scope: 'handler', meaning: "the chunk's identity (one atomic identity step in Redis)" },
  fold: { scope: 'handler', meaning: 'fragments built and joined, one fold script per profile (concurrently)' },
  accounts: { scope: 'handler', meaning: "the folded contacts' account profiles written, one script per account (only when some have one)" },
  encode: { scope: 'handler', meaning: 'output records built and Avro-encoded' },
  produce: { scope: 'background', meaning: "the chunk's records sent until acknowledged (acks=all; a deferred effect)" },
  settle: { scope: 'background', meaning: 'announced merges leave the identity journal (after the produce)' },
  decode: { scope: 'message', meaning: 'one record decoded (Avro)' },
  parse: { scope: 'message', meaning: "one change's profile_json parsed" },
  retire: { scope: 'message', meaning: 'profiles a change absorbed or erased retired (only when there are some)' },
  decide: { scope: 'message', meaning: 'every definition decided over one profile (CPU only)' },
  apply: { scope: 'message', meaning: "one profile's decisions written with their outbox records (one Redis step)" },
  dlq: { scope: 'cycle', meaning: "the chunk's dead letters sent until acknowledged (only when there are some)" },
  durable_wait: { scope: 'cycle', meaning: "waiting for the partition's oldest chunk in the background (inFlightChunks reached)" },
  commit: { scope: 'background', meaning: "the chunk's offset committed (after its effects and the previous chunk's commit)" },
  durable: { scope: 'background', meaning: "a chunk's deferred effects and its commit: from the end of its handler to its offset committed" },
  heartbeat: { scope: 'cycle', meaning: 'the heartbeat after the commit' },
  cycle: {
    scope: 'cycle',
    meaning:
      "one chunk's foreground cycle: from the end of the partition's previous chunk (or see fetch_wait) to its heartbeat (its commit follows in the background)",
  },
  relay_read: { scope: 'relay', meaning: 'outbox entries read (XREAD, blocking until some are there)' },
  relay_encode: { scope: 'relay', meaning: 'membership records built and Avro-encoded' },
  relay_produce: { scope: 'relay', meaning: 'sendBatch until acknowledged' },
  relay_ack: { scope: 'relay', meaning: 'shard cursors moved and relayed entries dropped' },
  relay_cycle: { scope: 'relay', meaning: "one relay round that found entries: read → encode → produce → ack (the ack overlaps the next round's read)" },
} as const;

export type Hop = keyof typeof HOPS;
export type HopScope = (typeof HOPS)[Hop]['scope'];

/** How handlers and loops time their hops: performance.now() and one observe per hop, nothing else. */
export interface HopTimer {
  /** Starts timing `hop`; the returned function records the time since (in seconds) and returns it. */
  start(hop: Hop): () => number;
  /** Times `work` as `hop`: recorded when it resolves (a failed attempt is not recorded). */
  time<T>(hop: Hop, work: () => Promise<T>): Promise<T>;
}

/** A timer that records nothing (steps run outside a service: tests, backfill, benchmarks). */
export const untimed: HopTimer = {
  start: () => () => 0,
  time: (_hop, work) => work(),
};

export interface KitMetrics {
  registry: Registry;
  messages: Counter<'topic' | 'outcome'>;
  deadLetters: Counter<'topic' | 'reason'>;
  retries: Counter<'topic'>;
  batchSeconds: Histogram<'topic'>;
  /** Seconds per hop (HOPS), by topic. */
  hopSeconds: Histogram<'topic' | 'hop'>;
  lag: Gauge<'topic' | 'partition'>;
  committed: Counter<'topic'>;
  /** The clock hops are timed with, in ms (performance.now unless a test injects one). */
  clock: () => number;
  /** A timer whose hops are recorded under `topic`. */
  hops(topic: string): HopTimer;
}

/** 100 µs … 26 s, doubling: percentiles read from these buckets are interpolated within a factor of two. */
export const HOP_BUCKETS = exponentialBuckets(0.0001, 2, 19);

export function createKitMetrics(service: string, o: { registry?: Registry; clock?: () => number } = {}): KitMetrics {
  const registry = o.registry ?? new Registry();
  const clock = o.clock ?? (() => performance.now());
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const hopSeconds = new Histogram({
    name: 'ps_hop_seconds',
    help: 'Time per hop of the consume cycle (hop: see HOPS in consumer-kit/src/metrics.ts)',
    labelNames: ['topic', 'hop'],
    registers: [registry],
    buckets: HOP_BUCKETS,
  });
  const hops = (topic: string): HopTimer => {
    // One labelled child per hop, made once: an observation is then a bucket search, no label hashing.
    const series = new Map<Hop, { observe(s: number): void }>();
    const seriesOf = (hop: Hop) => {
      const known = series.get(hop);
      if (known) return known;
      const child = hopSeconds.labels({ topic, hop });
      series.set(hop, child);
      return child;
    };
    const start = (hop: Hop) => {
      const t0 = clock();
      return () => {
        const s = (clock() - t0) / 1000;
        seriesOf(hop).observe(s);
        return s;
      };
    };
    return {
      start,
      async time(hop, work) {
        const done = start(hop);
        const out = await work();
        done();
        return out;
      },
    };
  };
  return {
    registry,
    messages: new Counter({ name: 'ps_messages_total', help: 'Messages handled, by outcome', labelNames: ['topic', 'outcome'], registers: [registry] }),
    deadLetters: new Counter({
      name: 'ps_dead_letters_total',
      help: 'Messages sent to the DLQ, by reason code',
      labelNames: ['topic', 'reason'],
      registers: [registry],
    }),
    retries: new Counter({ name: 'ps_retries_total', help: 'Retries of retriable failures', labelNames: ['topic'], registers: [registry] }),
    batchSeconds: new Histogram({
      name: 'ps_batch_seconds',
      help: 'Time to handle and commit one chunk',
      labelNames: ['topic'],
      registers: [registry],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    hopSeconds,
    lag: new Gauge({
      name: 'ps_consumer_lag',
      help: 'High watermark minus the next offset to handle',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
    committed: new Counter({ name: 'ps_commits_total', help: 'Offset commits after durable effects', labelNames: ['topic'], registers: [registry] }),
    clock,
    hops,
  };
}
