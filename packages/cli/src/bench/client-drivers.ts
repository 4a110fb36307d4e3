/**
 * The two Kafka clients `bench clients` compares, behind one small interface (a producer, and a group consumer that
 * hands batches of up to 500 messages to a handler and commits after each):
 *  - kafkajs as consumer-kit configures it: createKafka, createProducer (idempotent, acks all, one request in flight),
 *    a consumer with consumer-kit's session, heartbeat and fetch settings, and consume-loop.ts's shape: eachBatch in
 *    chunks of 500, three partitions at once, after each chunk commitOffsets, resolveOffset and heartbeat. kafkajs
 *    fetches again only when every batch of the last fetch is handled.
 *  - @platformatic/kafka: an idempotent producer (acks all; the Java-compatible murmur2 partitioner, as kafkajs's
 *    default, so keys land on the same partitions), and its stream consumer with manual commits: the stream keeps
 *    fetching (up to its highWaterMark of messages) while a batch is handled. A batch is what the stream holds, up to
 *    500 messages across partitions; the last message of each partition in it is committed (commits are coalesced).
 * Values and keys are Buffers both ways: the Confluent-framed Avro bytes pass through untouched (no serde).
 */
import { compatibilityPartitioner, Consumer, type Message, MessagesStreamFallbackModes, MessagesStreamModes, ProduceAcks, Producer } from '@platformatic/kafka';
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
  /** Rejects if the consumer fails (kafkajs: crashed; the stream: errored); never resolves otherwise. */
  failed: Promise<never>;
  stop(): Promise<void>;
}

export interface BenchClient {
  producer(): Promise<BenchProducer>;
  /** Starts consuming `topic` from the beginning; resolves once the consumer has joined its group. */
  consume(spec: ConsumeSpec): Promise<BenchConsumer>;
}

interface ClientOptions {
  brokers: string[];
  logger: Logger;
  clientId: string;
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
      return { failed, stop: () => consumer.disconnect() };
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
      });
      const stream = await consumer.consume({
        topics: [spec.topic],
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      });
      let stopped = false;
      let failure: unknown;
      let wake: (() => void) | undefined;
      stream.on('readable', () => wake?.());
      stream.on('error', (err) => {
        failure = err;
        wake?.();
      });
      const loop = (async () => {
        while (!stopped) {
          if (failure) throw failure;
          const batch: Message[] = [];
          for (let m: Message | null = stream.read(); m !== null; m = batch.length < CHUNK ? stream.read() : null) batch.push(m);
          if (batch.length === 0) {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = undefined;
            continue;
          }
          await spec.handle({ size: batch.length, timestamps: () => batch.map((m) => Number(m.timestamp)) });
          if (!spec.commit) continue;
          const last = new Map<number, Message>();
          for (const m of batch) last.set(m.partition, m);
          await Promise.all([...last.values()].map((m) => m.commit()));
        }
      })();
      const failed = loop.then(() => new Promise<never>(() => undefined));
      failed.catch(() => undefined); // observed by whoever races it
      return {
        failed,
        async stop() {
          stopped = true;
          wake?.();
          try {
            await loop;
          } finally {
            await stream.close();
            await consumer.close(true);
          }
        },
      };
    },
  };
}

export function benchClient(name: ClientName, o: ClientOptions): BenchClient {
  return name === 'kafkajs' ? kafkajsClient(o) : platformaticClient(o);
}
