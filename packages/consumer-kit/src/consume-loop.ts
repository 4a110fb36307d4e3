/**
 * The one consume loop. Per chunk of a partition's batch: run the handler, send dead letters, then go on with the
 * next chunk (and, once the batch is done, the next fetch) while the chunk's deferred effects (BatchContext.defer: the
 * stitcher's produce) are acknowledged and its offset is committed in the background. Per partition, commits follow
 * each other in offset order, and a chunk's commit waits for its own deferred effects and for every earlier chunk's
 * commit: the committed offset never passes a record whose effects were not acknowledged (at-least-once). At most
 * `inFlightChunks` chunks of a partition wait for their commit; the next one waits for the oldest.
 * Retriable failures are retried with backoff while heartbeating, and nothing past them is committed. A deferred
 * effect that still fails after its retries stops the partition's commits and fails the consumer (its next batch of
 * that partition throws): the next owner re-processes from the last commit.
 * On stop the chunk in hand finishes, the background commits drain, then the consumer leaves the group.
 * Every hop of a partition's cycle is timed into `ps_hop_seconds` (HOPS in metrics.ts): fetch wait, handle (the
 * handler times its own phases through `ctx.hops`), dlq, heartbeat and the cycle in the foreground; durable (a chunk's
 * deferred effects and commit, in the background) and commit; fetch requests too.
 */
import pRetry from 'p-retry';
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { createCommitter } from './committer.ts';
import { dlqTopicOf, toDlqRecord } from './dlq.ts';
import { type Gathered, gatherer } from './gather.ts';
import { errorMessage, isRetriable } from './errors.ts';
import { ensureTopics, type KafkaClient } from './kafka.ts';
import type { Producer } from './producer.ts';
import type { Logger } from './logger.ts';
import type { HopTimer, KitMetrics } from './metrics.ts';
import { dlq, type BatchHandler, type KitMessage, type Outcome } from './outcome.ts';

export interface ConsumeOptions {
  kafka: KafkaClient;
  /** Idempotent producer used for dead letters. */
  producer: Producer;
  service: string;
  groupId: string;
  topics: string[];
  handler: BatchHandler;
  logger: Logger;
  metrics: KitMetrics;
  fromBeginning?: boolean;
  /**
   * Messages per handler call (default 500). The chunks of the partitions a fetch brought are handled together
   * (gather.ts) up to this many; each partition's chunk is committed on its own.
   */
  chunkSize?: number;
  /** Partitions whose batches are handled at once (default 16: at least every partition of a topic here). */
  partitionsConsumedConcurrently?: number;
  /** Fetch size limits (defaults: 4 MiB per partition, kafkajs's 10 MiB per fetch response). */
  maxBytesPerPartition?: number;
  maxBytes?: number;
  /**
   * A fetch is answered once it has this many bytes or waited maxWaitMs (defaults 1 byte and kafkajs's 5 s: answered
   * with the first record). More bytes make fewer, larger cycles: less CPU per record, up to maxWaitMs more latency.
   */
  fetchMinBytes?: number;
  fetchMaxWaitMs?: number;
  retry?: { minTimeout?: number; maxTimeout?: number };
  /** Group session timeout in ms (default 30 s; a crashed member's partitions move after this). */
  sessionTimeout?: number;
  /** Partitions per DLQ topic when it has to be created (default 1). */
  dlqPartitions?: number;
  /** Chunks of one partition whose effects may be pending in the background (default 4; 1 = none ahead). */
  inFlightChunks?: number;
  /**
   * Offset commits are coalesced: every partition's highest acknowledged offset in one request at most this often
   * (default 100 ms; 0 = a request as soon as the last one is answered). A crash re-delivers at most this much more.
   */
  commitIntervalMs?: number;
}

export interface RunningConsumer {
  readonly consumer: Consumer;
  /** Finish the chunk in hand, drain the background commits, leave the group. */
  stop(): Promise<void>;
  /** True while the consumer is in its group and its last poll loop is alive. */
  healthy(): boolean;
}

const toKit = (topic: string, partition: number, m: KafkaMessage): KitMessage => ({
  topic,
  partition,
  offset: m.offset,
  key: m.key ?? null,
  value: m.value ?? null,
  headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v])),
  timestamp: m.timestamp,
});

export async function startConsumer(o: ConsumeOptions): Promise<RunningConsumer> {
  const log = o.logger.child({ group: o.groupId });
  const chunkSize = o.chunkSize ?? 500;
  const inFlightChunks = Math.max(1, o.inFlightChunks ?? 4);
  await ensureTopics(
    o.kafka,
    o.topics.map((t) => ({ topic: dlqTopicOf(t), partitions: o.dlqPartitions ?? 1 })),
  );
  const consumer = o.kafka.consumer({
    groupId: o.groupId,
    sessionTimeout: o.sessionTimeout ?? 30_000,
    heartbeatInterval: Math.min(3000, (o.sessionTimeout ?? 30_000) / 3),
    maxBytesPerPartition: o.maxBytesPerPartition ?? 4 << 20,
    ...(o.maxBytes === undefined ? {} : { maxBytes: o.maxBytes }),
    ...(o.fetchMinBytes === undefined ? {} : { minBytes: o.fetchMinBytes }),
    ...(o.fetchMaxWaitMs === undefined ? {} : { maxWaitTimeInMs: o.fetchMaxWaitMs }),
  });
  let inGroup = false;
  let crashed = false;
  const stopping = new AbortController();
  consumer.on(consumer.events.GROUP_JOIN, () => {
    inGroup = true;
  });
  consumer.on(consumer.events.CRASH, (e) => {
    crashed = true;
    inGroup = false;
    log.error({ err: e.payload.error }, 'consumer crashed');
  });
  consumer.on(consumer.events.STOP, () => {
    inGroup = false;
  });

  // Timing. kafkajs fetches from a broker again only when every batch of its last fetch is handled: a partition's
  // cycle runs from the end of its previous chunk (through the other partitions' batches and the next fetch) to the
  // end of this one — or, when the partition was idle, from when the batch's first record was produced (its
  // timestamp: a wall clock, so only as good as the producer's clock), but never from before the fetch that brought
  // the partition's first batch (a backlog waited for this consumer's start, not for its loop).
  const clock = o.metrics.clock;
  const fetchLabel = o.topics.join(',');
  const fetchStarts = new Map<number, number>();
  let lastFetchAt = 0;
  consumer.on(consumer.events.FETCH_START, ({ payload }) => {
    lastFetchAt = clock();
    fetchStarts.set(payload.nodeId, lastFetchAt);
  });
  consumer.on(consumer.events.FETCH, ({ payload }) => {
    const t0 = fetchStarts.get(payload.nodeId);
    if (t0 !== undefined) o.metrics.hopSeconds.observe({ topic: fetchLabel, hop: 'fetch' }, (clock() - t0) / 1000);
  });
  /** Per topic/partition: when its last chunk ended. */
  const ended = new Map<string, number>();
  const timers = new Map<string, HopTimer>();
  const timerOf = (topic: string): HopTimer => {
    const known = timers.get(topic);
    if (known) return known;
    const t = o.metrics.hops(topic);
    timers.set(topic, t);
    return t;
  };

  /**
   * Runs `work` until it succeeds, backing off on retriable errors. Handler retries give up when the
   * consumer stops (the chunk stays uncommitted); DLQ sends and commits of a finished chunk do not.
   */
  const withRetry = <T>(topic: string, what: string, work: () => Promise<T>, heartbeat: () => Promise<void>, abortable = true) =>
    pRetry(work, {
      retries: abortable ? Number.POSITIVE_INFINITY : 20,
      minTimeout: o.retry?.minTimeout ?? 200,
      maxTimeout: o.retry?.maxTimeout ?? 10_000,
      randomize: true,
      ...(abortable ? { signal: stopping.signal } : {}),
      shouldRetry: ({ error }) => (abortable ? isRetriable(error) && !stopping.signal.aborted : true),
      onFailedAttempt: async ({ error, attemptNumber }) => {
        o.metrics.retries.inc({ topic });
        log.warn({ topic, attempt: attemptNumber, err: errorMessage(error) }, `${what} failed, retrying`);
        await heartbeat().catch(() => undefined);
      },
    });

  /** Handler outcomes for a chunk; `retry` outcomes are re-run (only those messages) until they settle. */
  async function settle(chunk: KitMessage[], heartbeat: () => Promise<void>, hops: HopTimer, deferred: (() => Promise<unknown>)[]): Promise<Outcome[]> {
    /** One handler call; what it deferred is kept only when it returns (a failed attempt's work is not run). */
    const call = async (messages: KitMessage[]) => {
      const mine: (() => Promise<unknown>)[] = [];
      const out = await o.handler(messages, { heartbeat, signal: stopping.signal, hops, defer: (work) => mine.push(work) });
      deferred.push(...mine);
      return out;
    };
    let outcomes: Outcome[];
    try {
      outcomes = await withRetry(chunk[0]!.topic, 'handler', () => call(chunk), heartbeat);
    } catch (err) {
      if (stopping.signal.aborted) throw err;
      // A non-retriable throw for the whole chunk: isolate the culprit message by message.
      outcomes = [];
      for (const m of chunk) {
        try {
          outcomes.push(...(await withRetry(m.topic, 'handler', () => call([m]), heartbeat)));
        } catch (one) {
          if (stopping.signal.aborted) throw one;
          outcomes.push(dlq('step_failed', errorMessage(one)));
        }
      }
    }
    for (;;) {
      const pending = outcomes.flatMap((out, i) => (out.kind === 'retry' ? [i] : []));
      if (pending.length === 0) return outcomes;
      if (stopping.signal.aborted) throw new Error('stopping with retries pending');
      o.metrics.retries.inc({ topic: chunk[0]!.topic }, pending.length);
      const first = outcomes[pending[0]!] as { error: unknown };
      log.warn({ topic: chunk[0]!.topic, pending: pending.length, err: errorMessage(first.error) }, 'retrying messages');
      await new Promise((r) => setTimeout(r, o.retry?.minTimeout ?? 200));
      await heartbeat();
      const again = await call(pending.map((i) => chunk[i]!));
      pending.forEach((i, j) => {
        outcomes[i] = again[j]!;
      });
    }
  }

  /** Per topic/partition: whether its latest chunk and every earlier one are acknowledged (false: broken). */
  const readies = new Map<string, Promise<boolean>>();
  /** Every chunk's background work (effects, then its commit) until it settles: what stop() drains. */
  const tails = new Set<Promise<void>>();
  /** Per topic/partition: chunks whose effects are pending, oldest first (what inFlightChunks bounds). */
  const pending = new Map<string, Promise<boolean>[]>();
  /** The heartbeat of the latest batch: commit retries keep the member alive with it. */
  let lastHeartbeat: () => Promise<void> = async () => undefined;
  const committer = createCommitter(
    (targets) =>
      withRetry(
        targets[0]!.topic,
        'commit',
        () => consumer.commitOffsets(targets),
        () => lastHeartbeat(),
        false,
      ),
    o.commitIntervalMs ?? 100,
  );
  /** Partitions whose deferred effects failed for good: nothing more is committed for them. */
  const broken = new Map<string, unknown>();
  let activeBatches = 0;

  /**
   * The background half of a chunk: its deferred effects (started now, each retried until it succeeds or its retries
   * run out); once they and every earlier chunk's are acknowledged, its offset goes to the committer (coalesced with
   * the other partitions'). Never rejects.
   */
  function durably(topic: string, partition: number, last: string, highWatermark: string, effects: Promise<unknown>) {
    const tp = `${topic}/${partition}`;
    const hops = timerOf(topic);
    const done = hops.start('durable');
    const previous = readies.get(tp) ?? Promise.resolve(true);
    const ready = (async () => {
      let failed: unknown;
      await effects.catch((err: unknown) => {
        failed = err;
      });
      await previous;
      if (failed !== undefined && !broken.has(tp)) {
        broken.set(tp, failed);
        crashed = true;
        log.error({ topic, partition, offset: last, err: errorMessage(failed) }, 'deferred effects failed: nothing more is committed for this partition');
      }
      return !broken.has(tp);
    })();
    readies.set(tp, ready);
    const tail = (async () => {
      if (!(await ready)) return;
      const committed = hops.start('commit');
      try {
        await committer.commit({ topic, partition, offset: (BigInt(last) + 1n).toString() });
      } catch (err) {
        // Not fatal: the next chunk's commit covers this one; a revoked partition's new owner starts from the last commit.
        log.warn({ topic, partition, offset: last, err: errorMessage(err) }, 'commit failed');
        return;
      }
      committed();
      done();
      o.metrics.committed.inc({ topic });
      o.metrics.lag.set({ topic, partition: String(partition) }, Math.max(0, Number(BigInt(highWatermark) - BigInt(last) - 1n)));
    })();
    tails.add(tail);
    void tail.then(() => tails.delete(tail));
    const queue = pending.get(tp) ?? [];
    pending.set(tp, queue);
    queue.push(ready);
    void ready.then(() => {
      queue.splice(queue.indexOf(ready), 1);
      if (readies.get(tp) === ready) readies.delete(tp);
    });
  }

  /** A handler call for the chunks of the partitions of one fetch (per topic), and its deferred effects, started once. */
  type Ctx = { topic: string; heartbeat: () => Promise<void>; hops: HopTimer };
  type Handled = Gathered<Outcome, Promise<unknown>>;
  const gatherers = new Map<string, (chunk: KitMessage[], ctx: Ctx) => Promise<Handled>>();
  const gatherOf = (topic: string) => {
    const known = gatherers.get(topic);
    if (known) return known;
    const g = gatherer<KitMessage, Ctx, Outcome, Promise<unknown>>(async (messages, { topic: t, heartbeat, hops }) => {
      const deferred: (() => Promise<unknown>)[] = [];
      const outcomes = await settle(messages, heartbeat, hops, deferred);
      const effects = Promise.all(deferred.map((work) => withRetry(t, 'deferred effect', work, heartbeat, false)));
      effects.catch(() => undefined); // each partition's durably() reports a failure
      return { outcomes, shared: effects };
    }, chunkSize);
    gatherers.set(topic, g);
    return g;
  };

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    activeBatches++;
    try {
      await handleBatch(payload);
    } finally {
      activeBatches--;
    }
  }

  async function handleBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const hops = timerOf(topic);
    const tp = `${topic}/${partition}`;
    if (broken.has(tp)) throw new Error(`${tp}: deferred effects failed (${errorMessage(broken.get(tp))}); restart to re-process from the last commit`);
    lastHeartbeat = heartbeat;
    const arrived = clock();
    const producedAt = arrived - (Date.now() - Number(batch.messages[0]?.timestamp ?? Date.now()));
    let cycleFrom = Math.min(arrived, Math.max(ended.get(tp) ?? (lastFetchAt || arrived), producedAt));
    o.metrics.hopSeconds.observe({ topic, hop: 'fetch_wait' }, (arrived - cycleFrom) / 1000);
    for (let start = 0; start < batch.messages.length; start += chunkSize) {
      if (!isRunning() || isStale() || stopping.signal.aborted) return;
      // Room for one more chunk in the background: wait for the oldest (heartbeating meanwhile through its retries).
      const queue = pending.get(tp) ?? [];
      while (queue.length >= inFlightChunks) await hops.time('durable_wait', () => queue[0]!);
      const t0 = performance.now();
      const chunk = batch.messages.slice(start, start + chunkSize).map((m) => toKit(topic, partition, m));
      let handledChunk: Handled;
      const handled = hops.start('handle');
      try {
        handledChunk = await gatherOf(topic)(chunk, { topic, heartbeat, hops });
      } catch (err) {
        if (stopping.signal.aborted) return; // not committed: re-processed after restart/rebalance
        throw err;
      }
      handled();
      const outcomes = handledChunk.outcomes;
      const dead = chunk.flatMap((m, i) => {
        const out = outcomes[i]!;
        o.metrics.messages.inc({ topic, outcome: out.kind });
        return out.kind === 'dlq' ? [{ m, out }] : [];
      });
      if (dead.length) {
        const sent = hops.start('dlq');
        await withRetry(
          topic,
          'dlq send',
          () =>
            o.producer.send({
              topic: dlqTopicOf(topic),
              acks: -1,
              messages: dead.map(({ m, out }) => toDlqRecord(m, out.reason, out.message, o.service)),
            }),
          heartbeat,
          false,
        );
        sent();
        for (const { out, m } of dead) {
          o.metrics.deadLetters.inc({ topic, reason: out.reason });
          log.warn({ topic, partition, offset: m.offset, reason: out.reason, detail: out.message }, 'sent to DLQ');
        }
      }
      const last = chunk[chunk.length - 1]!.offset;
      durably(topic, partition, last, batch.highWatermark, handledChunk.shared);
      resolveOffset(last); // the fetch position moves only with resolved offsets, not with commits
      o.metrics.batchSeconds.observe({ topic }, (performance.now() - t0) / 1000);
      await hops.time('heartbeat', heartbeat);
      const end = clock();
      o.metrics.hopSeconds.observe({ topic, hop: 'cycle' }, (end - cycleFrom) / 1000);
      cycleFrom = end;
      ended.set(tp, end);
    }
  }

  await consumer.connect();
  for (const topic of o.topics) await consumer.subscribe({ topic, fromBeginning: o.fromBeginning ?? true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: o.partitionsConsumedConcurrently ?? 16,
    eachBatch,
  });
  log.info({ topics: o.topics }, 'consuming');

  return {
    consumer,
    healthy: () => inGroup && !crashed,
    async stop() {
      stopping.abort();
      // The batch in hand returns (its chunk finished or abandoned), then what is in the background is committed
      // while the consumer is still in its group; only then does it leave.
      while (activeBatches > 0) await new Promise((r) => setTimeout(r, 10));
      await committer.flush();
      await Promise.all([...tails]);
      await consumer.disconnect();
      log.info('consumer stopped');
    },
  };
}
