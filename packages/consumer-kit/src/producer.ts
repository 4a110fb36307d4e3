/**
 * The producer every service and the CLI use: kafkajs' idempotent producer (acks=all, one request in flight),
 * wrapped so that the producer-state errors kafkajs does not recover from by itself — seen here right after a
 * broker start, when a retried batch comes back OUT_OF_ORDER_SEQUENCE_NUMBER — replace the underlying producer
 * (a new producer id) and send the same records again. A record may then be written twice; every consumer in
 * this project de-duplicates by event id, so at-least-once holds and nothing is lost.
 *
 * Sends are coalesced (issue 12): while a request is in flight, the sends that arrive wait and then go together as
 * one request (split only by size), in the order they were asked. A stitcher's partitions each produce a chunk's
 * records; sent one request after another they were ~75 produce requests/s at 300 events/s, each costing the broker
 * ~1 ms of CPU on the 2-core machine. An idle producer sends at once (no linger); a busy one batches by itself.
 * A coalesced request that fails fails every send in it (each caller retries its own records).
 */
// kafkajs with its fixes (kafkajs-patch.ts, loaded by partitioner.ts first): the grouping per partition is replaced
// before kafkajs's producer loads.
import { keyPartitioner } from './partitioner.ts';
import type { Kafka as KafkaClient, Producer as KafkajsProducer, ProducerBatch, ProducerRecord, RecordMetadata } from 'kafkajs';

/** What callers use of a producer. */
export type Producer = Pick<KafkajsProducer, 'connect' | 'disconnect' | 'send' | 'sendBatch'>;

const RECOVERABLE = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING']);

export function isProducerStateError(err: unknown): boolean {
  return Boolean(err && typeof err === 'object' && 'type' in err && RECOVERABLE.has(String((err as { type: unknown }).type)));
}

function kafkajsProducer(kafka: KafkaClient, transactionalId?: string): KafkajsProducer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: keyPartitioner,
    // Idempotence needs unlimited retries (a limit could reorder or duplicate); the backoff is capped.
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5000 },
    ...(transactionalId ? { transactionalId } : {}),
  });
}

/**
 * Bytes per produce request. A request carries one record batch per partition, and the broker refuses a batch
 * over message.max.bytes (1 MiB by default) with a non-retriable error, so large sends (a chunk's profile
 * changes, each with its profile JSON) are split into requests below that, sent in order.
 */
export const MAX_REQUEST_BYTES = 768 * 1024;

type TopicMessages = ProducerBatch['topicMessages'] extends (infer T)[] | undefined ? T : never;

const sizeOf = (m: TopicMessages['messages'][number]) =>
  64 +
  (m.key ? Buffer.byteLength(m.key as string | Buffer) : 0) +
  (m.value ? Buffer.byteLength(m.value as string | Buffer) : 0) +
  Object.entries(m.headers ?? {}).reduce((a, [k, v]) => a + k.length + (v ? Buffer.byteLength(String(v)) : 0), 0);

/** Splits topic messages into batches of at most `max` bytes (a record larger than that goes alone). */
export function splitBatch(topicMessages: TopicMessages[], max = MAX_REQUEST_BYTES): TopicMessages[][] {
  const out: TopicMessages[][] = [];
  let cur: TopicMessages[] = [];
  let bytes = 0;
  for (const tm of topicMessages) {
    let part: TopicMessages = { ...tm, messages: [] };
    for (const m of tm.messages) {
      const n = sizeOf(m);
      if (bytes + n > max && bytes > 0) {
        if (part.messages.length) cur.push(part);
        out.push(cur);
        cur = [];
        bytes = 0;
        part = { ...tm, messages: [] };
      }
      part.messages.push(m);
      bytes += n;
    }
    if (part.messages.length) cur.push(part);
  }
  if (cur.length) out.push(cur);
  return out;
}

interface Queued {
  topicMessages: TopicMessages[];
  acks: number | undefined;
  resolve: (m: RecordMetadata[]) => void;
  reject: (err: unknown) => void;
}

/** Topic messages of several sends as one list: one entry per topic, records in the order they were asked. */
export function mergeTopicMessages(sends: readonly TopicMessages[][]): TopicMessages[] {
  const byTopic = new Map<string, TopicMessages>();
  for (const tms of sends) {
    for (const tm of tms) {
      const known = byTopic.get(tm.topic);
      if (known) known.messages.push(...tm.messages);
      else byTopic.set(tm.topic, { ...tm, messages: [...tm.messages] });
    }
  }
  return [...byTopic.values()];
}

/**
 * Runs `send` for queued batches one request at a time; what is queued meanwhile (with the same acks) goes as one.
 * Each caller gets the metadata of its own topics.
 */
export function coalescing(send: (topicMessages: TopicMessages[], acks: number | undefined) => Promise<RecordMetadata[]>) {
  let queue: Queued[] = [];
  let pumping = false;
  async function pump(): Promise<void> {
    pumping = true;
    while (queue.length) {
      const acks = queue[0]!.acks;
      const n = queue.findIndex((q) => q.acks !== acks);
      const batch = n === -1 ? queue : queue.slice(0, n);
      queue = n === -1 ? [] : queue.slice(n);
      try {
        const meta = await send(mergeTopicMessages(batch.map((q) => q.topicMessages)), acks);
        for (const q of batch) {
          const topics = new Set(q.topicMessages.map((tm) => tm.topic));
          q.resolve(meta.filter((m) => topics.has(m.topicName)));
        }
      } catch (err) {
        for (const q of batch) q.reject(err);
      }
    }
    pumping = false;
  }
  return (topicMessages: TopicMessages[], acks: number | undefined): Promise<RecordMetadata[]> =>
    new Promise((resolve, reject) => {
      queue.push({ topicMessages, acks, resolve, reject });
      if (!pumping) void pump();
    });
}

/** An idempotent producer (acks=all, exactly-once per partition against ordinary retries), its sends coalesced. */
export function createProducer(kafka: KafkaClient, options: { transactionalId?: string } = {}): Producer {
  if (options.transactionalId) return kafkajsProducer(kafka, options.transactionalId);
  let current = kafkajsProducer(kafka);
  let connected = false;
  async function again<T>(attempt: () => Promise<T>): Promise<T> {
    for (let tries = 0; ; tries++) {
      try {
        return await attempt();
      } catch (err) {
        if (!isProducerStateError(err) || tries >= 5) throw err;
        const old = current;
        current = kafkajsProducer(kafka);
        await old.disconnect().catch(() => undefined);
        if (connected) await current.connect();
      }
    }
  }
  const enqueue = coalescing(async (topicMessages, acks) => {
    const out: RecordMetadata[] = [];
    for (const part of splitBatch(topicMessages))
      out.push(...(await again(() => current.sendBatch({ ...(acks === undefined ? {} : { acks }), topicMessages: part }))));
    return out;
  });
  return {
    async connect() {
      await current.connect();
      connected = true;
    },
    async disconnect() {
      connected = false;
      await current.disconnect();
    },
    send: (record: ProducerRecord): Promise<RecordMetadata[]> => enqueue([{ topic: record.topic, messages: record.messages }], record.acks),
    sendBatch: (batch: ProducerBatch): Promise<RecordMetadata[]> => enqueue(batch.topicMessages ?? [], batch.acks),
  };
}
