/**
 * Reads a topic from the beginning up to the end it had when reading started (or on and on with
 * `follow`), through a throwaway consumer group that is deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import type { KafkaClient } from '@profile-stream/consumer-kit';

export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | undefined>;
  timestamp: string;
}

export interface ReadOptions {
  follow?: boolean;
  max?: number;
  /** Offsets already handled by a replay group (dlq replay): only newer records are read. */
  groupId?: string;
}

export async function readTopic(kafka: KafkaClient, topic: string, o: ReadOptions, onRecord: (r: RawRecord) => Promise<void> | void): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = o.groupId ?? `profile-stream-cli-${randomBytes(4).toString('hex')}`;
  try {
    let offsets = await admin.fetchTopicOffsets(topic);
    for (let i = 0; offsets.length === 0 && i < 40; i++) {
      // a fresh broker may not know the partitions yet
      await new Promise((r) => setTimeout(r, 250));
      offsets = await admin.fetchTopicOffsets(topic);
    }
    const ends = new Map(offsets.map((p) => [p.partition, BigInt(p.high)]));
    const committed = o.groupId ? await admin.fetchOffsets({ groupId, topics: [topic] }) : [];
    const starts = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    const remaining = new Set([...ends].filter(([p, high]) => high > (starts.get(p) ?? 0n) && high > 0n).map(([p]) => p));
    if (!o.follow && remaining.size === 0) return 0;
    let count = 0;
    const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 1000 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const finish = () => resolve();
      consumer
        .run({
          autoCommit: Boolean(o.groupId),
          eachMessage: async ({ partition, message }) => {
            if (!o.follow && !remaining.has(partition)) return;
            if (o.max !== undefined && count >= o.max) return;
            await onRecord({
              topic,
              partition,
              offset: message.offset,
              key: message.key ?? null,
              value: message.value ?? null,
              headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v])) as Record<
                string,
                Buffer | undefined
              >,
              timestamp: message.timestamp,
            });
            count++;
            if (BigInt(message.offset) + 1n >= (ends.get(partition) ?? 0n)) remaining.delete(partition);
            if ((!o.follow && remaining.size === 0) || (o.max !== undefined && count >= o.max)) setImmediate(finish);
          },
        })
        .catch(reject);
      if (o.follow) {
        process.once('SIGINT', finish);
        process.once('SIGTERM', finish);
      }
    });
    await consumer.disconnect();
    return count;
  } finally {
    if (!o.groupId) await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
