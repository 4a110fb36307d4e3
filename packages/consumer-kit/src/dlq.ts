/**
 * Dead letters: the original key and bytes, plus headers that say why and where from, so that
 * `profile-stream dlq replay` can send them back to their topic after a fix.
 */
import type { KitMessage } from './outcome.ts';

export const DLQ_SUFFIX = '.dlq';
export const dlqTopicOf = (topic: string): string => `${topic}${DLQ_SUFFIX}`;

export const DLQ_HEADERS = {
  reason: 'ps-dlq-reason',
  message: 'ps-dlq-message',
  topic: 'ps-dlq-source-topic',
  partition: 'ps-dlq-source-partition',
  offset: 'ps-dlq-source-offset',
  service: 'ps-dlq-service',
  time: 'ps-dlq-time',
} as const;

export interface DeadLetter {
  reason: string;
  message: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  service: string;
  time: string;
}

export interface DlqRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string | Buffer>;
}

export function toDlqRecord(m: KitMessage, reason: string, message: string, service: string, now = new Date()): DlqRecord {
  const original: Record<string, string | Buffer> = {};
  for (const [k, v] of Object.entries(m.headers)) if (v !== undefined && !k.startsWith('ps-dlq-')) original[k] = v;
  return {
    key: m.key,
    value: m.value,
    headers: {
      ...original,
      [DLQ_HEADERS.reason]: reason,
      [DLQ_HEADERS.message]: message.slice(0, 2000),
      [DLQ_HEADERS.topic]: m.topic,
      [DLQ_HEADERS.partition]: String(m.partition),
      [DLQ_HEADERS.offset]: m.offset,
      [DLQ_HEADERS.service]: service,
      [DLQ_HEADERS.time]: now.toISOString(),
    },
  };
}

/** Reads the DLQ headers back; undefined when the record is not a dead letter. */
export function readDeadLetter(headers: Record<string, Buffer | string | undefined>): DeadLetter | undefined {
  const h = (name: string) => {
    const v = headers[name];
    return v === undefined ? undefined : v.toString();
  };
  const reason = h(DLQ_HEADERS.reason);
  const sourceTopic = h(DLQ_HEADERS.topic);
  if (!reason || !sourceTopic) return undefined;
  return {
    reason,
    message: h(DLQ_HEADERS.message) ?? '',
    sourceTopic,
    sourcePartition: Number(h(DLQ_HEADERS.partition) ?? -1),
    sourceOffset: h(DLQ_HEADERS.offset) ?? '',
    service: h(DLQ_HEADERS.service) ?? '',
    time: h(DLQ_HEADERS.time) ?? '',
  };
}

/** Headers for a replayed record: the original ones, without the DLQ bookkeeping. */
export function replayHeaders(headers: Record<string, Buffer | string | undefined>): Record<string, Buffer | string> {
  const out: Record<string, Buffer | string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !k.startsWith('ps-dlq-')) out[k] = v;
  out['ps-replayed-from-dlq'] = 'true';
  return out;
}
