/**
 * The producer every service and the CLI use: kafkajs' idempotent producer (acks=all, one request in flight),
 * wrapped so that the producer-state errors kafkajs does not recover from by itself — seen here right after a
 * broker start, when a retried batch comes back OUT_OF_ORDER_SEQUENCE_NUMBER — replace the underlying producer
 * (a new producer id) and send the same records again. A record may then be written twice; every consumer in
 * this project de-duplicates by event id, so at-least-once holds and nothing is lost.
 */
import kafkajs from 'kafkajs';
import type { Kafka as KafkaClient, Producer as KafkajsProducer, ProducerBatch, ProducerRecord, RecordMetadata } from 'kafkajs';

const { Partitioners } = kafkajs;

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
    createPartitioner: Partitioners.DefaultPartitioner,
    // Idempotence needs unlimited retries (a limit could reorder or duplicate); the backoff is capped.
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5000 },
    ...(transactionalId ? { transactionalId } : {}),
  });
}

/** An idempotent producer (acks=all, exactly-once per partition against ordinary retries). */
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
  return {
    async connect() {
      await current.connect();
      connected = true;
    },
    async disconnect() {
      connected = false;
      await current.disconnect();
    },
    send: (record: ProducerRecord): Promise<RecordMetadata[]> => again(() => current.send(record)),
    sendBatch: (batch: ProducerBatch): Promise<RecordMetadata[]> => again(() => current.sendBatch(batch)),
  };
}
