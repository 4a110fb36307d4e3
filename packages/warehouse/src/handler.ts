/**
 * The warehouse's batch handler: decode → map to typed rows (steps in rows.ts) → hand the chunk's rows to the
 * batch sink and return only when they are in ClickHouse. A message that cannot become rows is a DLQ outcome with
 * its reason (and never holds up the rest); ClickHouse trouble makes the whole chunk retriable (nothing committed).
 */
import { decodeMessageRaw, dlq, drop, failed, ok, type BatchHandler, type KitMessage, type Outcome } from '@profile-stream/consumer-kit';
import type {
  ClickEvent,
  ContractsRegistry,
  LoyaltyEvent,
  ProfileChanged,
  ProfileErased,
  ProfileMerged,
  Purchase,
  SegmentMembershipChanged,
  SupportTicket,
  TopicId,
  TopicTable,
} from '@profile-stream/contracts';
import { clickRows, loyaltyRows, membershipRows, mergeRows, profileRows, purchaseRows, ticketRows, type RowOptions } from './rows.ts';
import type { BatchSink, Entry } from './sink.ts';

/** The topics the warehouse consumes (topic ids of the contracts topic table). */
export const WAREHOUSE_TOPICS = [
  'clickstream',
  'purchases',
  'support-tickets',
  'loyalty',
  'profile-changes',
  'segment-membership-changed',
  'profile-merged',
  'profile-erased',
] as const satisfies readonly TopicId[];

export interface HandlerDeps {
  registry: ContractsRegistry;
  topics: TopicTable;
  sink: BatchSink;
  rowOptions: () => RowOptions;
}

/** One message → what it adds to the warehouse, or why not (an outcome). */
export function toEntry(id: TopicId, value: unknown, o: RowOptions): Entry | Outcome {
  switch (id) {
    case 'clickstream':
      return { rows: clickRows(value as ClickEvent, o) };
    case 'purchases':
      return { rows: purchaseRows(value as Purchase, o) };
    case 'support-tickets':
      return { rows: ticketRows(value as SupportTicket, o) };
    case 'loyalty':
      return { rows: loyaltyRows(value as LoyaltyEvent, o) };
    case 'segment-membership-changed':
      return { rows: membershipRows(value as SegmentMembershipChanged) };
    case 'profile-merged':
      return { rows: mergeRows(value as ProfileMerged) };
    case 'profile-erased':
      return { erase: value as ProfileErased };
    case 'profile-changes': {
      const rows = profileRows(value as ProfileChanged, o);
      return rows ? { rows } : drop('no_snapshot');
    }
  }
}

const isOutcome = (x: Entry | Outcome): x is Outcome => 'kind' in x;

export function warehouseHandler(d: HandlerDeps): BatchHandler {
  const idOf = new Map(Object.entries(d.topics).map(([id, spec]) => [spec.topic, id as TopicId]));
  return async (messages: KitMessage[]) => {
    const outcomes: Outcome[] = new Array(messages.length);
    const entries: Entry[] = [];
    const at: number[] = [];
    const o = d.rowOptions();
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      try {
        const id = idOf.get(m.topic);
        if (!id) {
          outcomes[i] = dlq('unknown_topic', `${m.topic} is not a warehouse topic`);
          continue;
        }
        const { value } = await decodeMessageRaw(d.registry, m);
        const entry = toEntry(id, value, o);
        if (isOutcome(entry)) outcomes[i] = entry;
        else {
          entries.push(entry);
          at.push(i);
        }
      } catch (err) {
        outcomes[i] = failed(err);
      }
    }
    const written = await d.sink.write(entries); // throws (retriable) when ClickHouse did not take the batch
    written.forEach((out, j) => {
      outcomes[at[j]!] = out;
    });
    for (let i = 0; i < outcomes.length; i++) outcomes[i] ??= ok();
    return outcomes;
  };
}
