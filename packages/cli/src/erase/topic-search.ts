/**
 * `erase --verify` in Kafka: each topic read from the beginning to the end it had when reading started (read-topic.ts,
 * a throwaway consumer group), each record's Avro value decoded through the registry (bytes that do not decode, as in a
 * DLQ, are searched as text), and its key, strings and headers matched. In `profile-changes`, a record of a profile
 * whose later record in the same partition is an erase record (cause `erase`, no profile) is superseded: compaction
 * removes it by the erase record's time + the topic's `max.compaction.lag.ms` (+ the cleaner's pass). Input topics, DLQs
 * and segment-membership-changed (whose records may carry traits a segment definition includes) keep what they hold
 * until their retention: Kafka cannot delete single records.
 */
import type { ContractsRegistry } from '@profile-stream/contracts';
import type { KafkaClient } from '@profile-stream/consumer-kit';
import { readTopic, type RawRecord } from '../read-topic.ts';
import { judge, matchText, stringsOf, type Finding, type Needle, type Needles, type TopicRole } from './matchers.ts';

/** Added to the compaction lag: the cleaner's backoff when idle (log.cleaner.backoff.ms, 15 s) and one cleaning pass. */
export const COMPACTION_SLACK_MS = 60_000;

export interface TopicToSearch {
  topic: string;
  /** How its findings are judged: `input` and `dlq` records stay until retention; `profile-changes` is compacted. */
  kind: 'input' | 'dlq' | 'membership' | 'profile-changes' | 'pseudonymous';
  retentionMs: number | undefined;
  /** For a compacted topic. */
  maxCompactionLagMs: number | undefined;
}

export interface TopicSearch {
  topic: string;
  records: number;
  findings: Finding[];
}

interface Hit {
  partition: number;
  offset: bigint;
  key: string;
  timestamp: number;
  eraseRecord: boolean;
  needles: Needle[];
}

/** The record's value decoded (or its bytes as text when they are not Confluent-framed Avro). */
async function decodedValue(registry: ContractsRegistry, r: RawRecord): Promise<unknown> {
  if (!r.value || r.value.length === 0) return null;
  try {
    return (await registry.decode(r.value)).value;
  } catch {
    return r.value.toString('utf8'); // a DLQ keeps the original bytes, which may not be Avro at all
  }
}

/** Whether a decoded profile-changes value is the record an erase publishes: cause `erase`, no profile. */
export function isEraseRecord(value: unknown): boolean {
  const v = value as { cause?: unknown; profile_json?: unknown } | null;
  return v !== null && typeof v === 'object' && v.cause === 'erase' && (v.profile_json === null || v.profile_json === undefined);
}

export async function searchTopic(
  kafka: KafkaClient,
  registry: ContractsRegistry,
  t: TopicToSearch,
  o: { needles: Needles; now: number; redisPrefix: string },
): Promise<TopicSearch> {
  const hits: Hit[] = [];
  // per partition and key, the offset and time of the last erase record
  const erased = new Map<string, { offset: bigint; timestamp: number }>();
  const records = await readTopic(kafka, t.topic, {}, async (r) => {
    const key = r.key?.toString('utf8') ?? '';
    const value = await decodedValue(registry, r);
    const eraseRecord = t.kind === 'profile-changes' && isEraseRecord(value);
    if (eraseRecord) erased.set(`${r.partition}/${key}`, { offset: BigInt(r.offset), timestamp: Number(r.timestamp) });
    const found = new Set<Needle>();
    for (const s of [key, ...stringsOf(value), ...stringsOf(r.headers)]) for (const n of matchText(o.needles, s)) found.add(n);
    if (found.size) hits.push({ partition: r.partition, offset: BigInt(r.offset), key, timestamp: Number(r.timestamp), eraseRecord, needles: [...found] });
  });
  const findings = hits.map((h) => {
    const { role, dueAt } = roleOf(t, h, erased.get(`${h.partition}/${h.key}`));
    return judge(
      {
        store: 'kafka',
        where: `${t.topic}-${h.partition}@${h.offset}`,
        place: role,
        count: 1,
        needles: h.needles,
        now: o.now,
        ...(dueAt === undefined ? {} : { dueAt }),
      },
      { redisPrefix: o.redisPrefix },
    );
  });
  return { topic: t.topic, records, findings };
}

function roleOf(t: TopicToSearch, h: Hit, erase: { offset: bigint; timestamp: number } | undefined): { role: TopicRole; dueAt?: number } {
  const retained = t.retentionMs !== undefined && t.retentionMs >= 0 ? { dueAt: h.timestamp + t.retentionMs } : {};
  if (t.kind === 'input' || t.kind === 'dlq' || t.kind === 'membership') return { role: t.kind, ...retained };
  if (t.kind === 'pseudonymous') return { role: 'pseudonymous' };
  if (h.eraseRecord) return { role: 'profile-changes-erase' };
  if (erase && erase.offset > h.offset && t.maxCompactionLagMs !== undefined)
    return { role: 'profile-changes-superseded', dueAt: erase.timestamp + t.maxCompactionLagMs + COMPACTION_SLACK_MS };
  return { role: 'profile-changes' };
}
