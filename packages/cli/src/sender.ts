/**
 * Batched, pipelined sends: messages are grouped per topic into batches of `batchSize` and up to
 * `inFlight` batches are outstanding at once (the idempotent producer keeps per-partition order).
 */
import type { Producer } from '@profile-stream/consumer-kit';

export interface OutMessage {
  key: string | Buffer | null;
  value: Buffer;
  headers?: Record<string, string>;
}

export class Sender {
  private readonly buffers = new Map<string, OutMessage[]>();
  private readonly pending = new Set<Promise<void>>();
  private failure: unknown;
  private readonly producer: Producer;
  private readonly o: { batchSize?: number; inFlight?: number };
  sent = 0;

  constructor(producer: Producer, o: { batchSize?: number; inFlight?: number } = {}) {
    this.producer = producer;
    this.o = o;
  }

  async add(topic: string, message: OutMessage): Promise<void> {
    if (this.failure) throw this.failure;
    let buf = this.buffers.get(topic);
    if (!buf) {
      buf = [];
      this.buffers.set(topic, buf);
    }
    buf.push(message);
    if (buf.length >= (this.o.batchSize ?? 1000)) await this.flushTopic(topic);
  }

  private async flushTopic(topic: string): Promise<void> {
    const messages = this.buffers.get(topic);
    if (!messages?.length) return;
    this.buffers.set(topic, []);
    while (this.pending.size >= (this.o.inFlight ?? 4)) await Promise.race(this.pending);
    const p = this.producer
      .send({ topic, acks: -1, messages })
      .then(() => {
        this.sent += messages.length;
      })
      .catch((err: unknown) => {
        this.failure = err;
      })
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Starts sending everything buffered, without waiting for acknowledgements (only for room: `inFlight`). */
  async send(): Promise<void> {
    if (this.failure) throw this.failure;
    for (const topic of this.buffers.keys()) await this.flushTopic(topic);
  }

  /** Sends everything buffered and waits for every acknowledgement. */
  async flush(): Promise<void> {
    for (const topic of this.buffers.keys()) await this.flushTopic(topic);
    await Promise.all(this.pending);
    if (this.failure) throw this.failure;
  }
}
