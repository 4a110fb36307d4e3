/**
 * The two Kafka clients `bench clients` compares, behind one small interface (a producer, and a group consumer that
 * hands batches of up to 500 messages to a handler and commits after each):
 *  - kafkajs as consumer-kit configures it: createKafka, createProducer (idempotent, acks all, one request in flight),
 *    a consumer with consumer-kit's session, heartbeat and fetch settings, and consume-loop.ts's shape: eachBatch in
 *    chunks of 500, three partitions at once, after each chunk commitOffsets, resolveOffset and heartbeat. kafkajs
 *    fetches again only when every batch of the last fetch is handled.
 *  - @platformatic/kafka: an idempotent producer (acks all; the Java-compatible murmur2 partitioner, as kafkajs's
 *    default, so keys land on the same partitions), and its stream consumer with manual commits, handled in the same
 *    shape (partitionLoop: chunks of 500 of one partition, three partitions at once, a commit after each chunk)
 *    while the stream keeps fetching.
 * Values and keys are Buffers both ways: the Confluent-framed Avro bytes pass through untouched (no serde).
 */
import {
  compatibilityPartitioner,
  Consumer,
  consumerFetchesChannel,
  type Message,
  type MessagesStream,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  ProduceAcks,
  Producer,
} from '@platformatic/kafka';
import { createKafka, createProducer, type Logger } from '@profile-stream/consumer-kit';

export const CLIENTS = ['kafkajs', 'platformatic'] as const;
export type ClientName = (typeof CLIENTS)[number];
export const CLIENT_LABEL: Record<ClientName, string> = { kafkajs: 'kafkajs', platformatic: '@platformatic/kafka' };

/** Messages per handler call and commit (consumer-kit's chunk size). */
export const CHUNK = 500;

export interface OutRecord {
  key: Buffer;
  value: Buffer;
}

export interface BenchProducer {
  /** Sends `records` to `topic` (acks all); `timestamp` (ms) is the records' CreateTime. */
  send(topic: string, records: readonly OutRecord[], timestamp?: number): Promise<void>;
  close(): Promise<void>;
}

export interface Batch {
  size: number;
  /** The messages' CreateTime (ms). */
  timestamps(): number[];
}

export interface ConsumeSpec {
  topic: string;
  groupId: string;
  /** Called with each batch (at most CHUNK messages); when it resolves the batch is handled. */
  handle(batch: Batch): Promise<void>;
  /** Commit after each handled batch (false: count only, nothing committed). */
  commit: boolean;
}

export interface BenchConsumer {
  /** Fetch requests sent so far. */
  fetches(): number;
  /** Rejects if the consumer fails (kafkajs: crashed; the stream: errored); never resolves otherwise. */
  failed: Promise<never>;
  stop(): Promise<void>;
}

export interface BenchClient {
  producer(): Promise<BenchProducer>;
  /** Starts consuming `topic` from the beginning; resolves once the consumer has joined its group. */
  consume(spec: ConsumeSpec): Promise<BenchConsumer>;
}

export interface ClientOptions {
  brokers: string[];
  logger: Logger;
  clientId: string;
  /**
   * @platformatic/kafka's consumer only: when set (ms), each fetch asks the broker to wait up to this long for 64 KiB
   * (minBytes/maxWaitTime) instead of answering with the first message. Its stream fetches again as soon as a fetch
   * returns, so when caught up it otherwise sends a fetch for every few messages. Unset: its defaults (minBytes 1).
   */
  fetchWaitMs?: number | undefined;
}

function kafkajsClient(o: ClientOptions): BenchClient {
  const kafka = createKafka({ brokers: o.brokers, clientId: o.clientId, logger: o.logger });
  return {
    async producer() {
      const p = createProducer(kafka);
      await p.connect(); // the idempotent producer gets its id here
      return {
        send: async (topic, records, timestamp) => {
          const ts = timestamp === undefined ? undefined : String(timestamp);
          await p.send({ topic, acks: -1, messages: records.map((r) => ({ key: r.key, value: r.value, timestamp: ts })) });
        },
        close: () => p.disconnect(),
      };
    },
    async consume(spec) {
      const consumer = kafka.consumer({ groupId: spec.groupId, sessionTimeout: 30_000, heartbeatInterval: 3000, maxBytesPerPartition: 4 << 20 });
      const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
      const failed = new Promise<never>((_, reject) => consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error)));
      let fetches = 0;
      consumer.on(consumer.events.FETCH_START, () => {
        fetches++;
      });
      failed.catch(() => undefined); // observed by whoever races it
      await consumer.connect();
      await consumer.subscribe({ topic: spec.topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 3,
        eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
          for (let start = 0; start < batch.messages.length; start += CHUNK) {
            if (!isRunning() || isStale()) return;
            const chunk = batch.messages.slice(start, start + CHUNK);
            await spec.handle({ size: chunk.length, timestamps: () => chunk.map((m) => Number(m.timestamp)) });
            const last = chunk[chunk.length - 1]!.offset;
            if (spec.commit) await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
            resolveOffset(last);
            await heartbeat();
          }
        },
      });
      await joined;
      return { failed, fetches: () => fetches, stop: () => consumer.disconnect() };
    },
  };
}

function platformaticClient(o: ClientOptions): BenchClient {
  const base = { clientId: o.clientId, bootstrapBrokers: o.brokers, retries: 8, retryDelay: 250 };
  return {
    async producer() {
      const p = new Producer({ ...base, idempotent: true, acks: ProduceAcks.ALL, partitioner: compatibilityPartitioner });
      await p.initIdempotentProducer({}); // as kafkajs's connect does
      return {
        send: async (topic, records, timestamp) => {
          const ts = timestamp === undefined ? undefined : BigInt(timestamp);
          await p.send({ messages: records.map((r) => ({ topic, key: r.key, value: r.value, timestamp: ts })) });
        },
        close: () => p.close(),
      };
    },
    async consume(spec) {
      const consumer = new Consumer({
        ...base,
        groupId: spec.groupId,
        sessionTimeout: 30_000,
        heartbeatInterval: 3000,
        maxBytesPerPartition: 4 << 20,
        autocommit: false,
        ...(o.fetchWaitMs ? { minBytes: 64 << 10, maxWaitTime: o.fetchWaitMs } : {}),
      });
      const stream = await consumer.consume({
        topics: [spec.topic],
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      });
      const loop = partitionLoop(stream, spec);
      let fetches = 0;
      const onFetch = (event: unknown) => {
        if ((event as { client?: unknown }).client === consumer) fetches++;
      };
      consumerFetchesChannel.start.subscribe(onFetch);
      return {
        failed: loop.failed,
        fetches: () => fetches,
        async stop() {
          consumerFetchesChannel.start.unsubscribe(onFetch);
          try {
            await loop.stop();
          } finally {
            await stream.close();
            await consumer.close(true);
          }
        },
      };
    },
  };
}

/**
 * Partitions handled at once (consumer-kit's partitionsConsumedConcurrently), and the bytes of messages held out of
 * the stream (kafkajs's maxBytes: what one kafkajs fetch may hold). A stream delivers a fetch response partition after
 * partition, up to 4 MiB of each: a smaller hold would see one partition at a time and handle it alone.
 */
const CONCURRENT = 3;
const HELD_BYTES = 10 << 20;

/**
 * Hands a stream's messages to `spec.handle` the way consume-loop.ts hands kafkajs's batches: per partition in order,
 * up to CHUNK at a time, up to CONCURRENT partitions at once (taken in turn), and a partition's chunk committed (its
 * last offset) before its next chunk starts. The stream keeps fetching meanwhile, up to its highWaterMark (1,024
 * messages by default); this loop holds at most HELD_BYTES more out of it.
 */
function partitionLoop(stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>, spec: ConsumeSpec): { failed: Promise<never>; stop(): Promise<void> } {
  const queues = new Map<number, Message[]>();
  const busy = new Set<number>();
  const idle = new Set<() => void>();
  let held = 0;
  let stopped = false;
  let failure: unknown;
  let rejectFailed!: (err: unknown) => void;
  const failed = new Promise<never>((_, reject) => {
    rejectFailed = reject;
  });
  failed.catch(() => undefined); // observed by whoever races it
  const fail = (err: unknown) => {
    if (failure !== undefined) return;
    failure = err;
    rejectFailed(err);
  };

  const handleChunk = async (partition: number, chunk: Message[]) => {
    try {
      await spec.handle({ size: chunk.length, timestamps: () => chunk.map((m) => Number(m.timestamp)) });
      if (spec.commit) await chunk[chunk.length - 1]!.commit();
    } catch (err) {
      fail(err);
    }
    busy.delete(partition);
    if (busy.size === 0) for (const done of idle) done();
    pull();
  };
  const schedule = () => {
    for (const [partition, queue] of queues) {
      if (busy.size >= CONCURRENT || stopped || failure !== undefined) return;
      if (busy.has(partition) || queue.length === 0) continue;
      const chunk = queue.splice(0, CHUNK);
      for (const m of chunk) held -= m.value.length;
      busy.add(partition);
      queues.delete(partition); // to the back of the turn
      queues.set(partition, queue);
      void handleChunk(partition, chunk);
    }
  };
  function pull(): void {
    if (stopped || failure !== undefined) return;
    for (let m: Message | null = held < HELD_BYTES ? stream.read() : null; m !== null; m = held < HELD_BYTES ? stream.read() : null) {
      let queue = queues.get(m.partition);
      if (!queue) {
        queue = [];
        queues.set(m.partition, queue);
      }
      queue.push(m);
      held += m.value.length;
    }
    schedule();
  }
  stream.on('readable', pull);
  stream.on('error', fail);
  pull();
  return {
    failed,
    async stop() {
      stopped = true;
      while (busy.size > 0) await new Promise<void>((resolve) => idle.add(resolve));
      idle.clear();
      if (failure !== undefined) throw failure;
    },
  };
}

export function benchClient(name: ClientName, o: ClientOptions): BenchClient {
  return name === 'kafkajs' ? kafkajsClient(o) : platformaticClient(o);
}
