/**
 * The import loop without Kafka: records → lines → orders, with every unusable row handed to `onReject` with its line
 * number and reason. The first record decides the columns (a wrong mapping throws there); with a header it is not data.
 */
import { ProfileStreamError, type Purchase } from '@profile-stream/contracts';
import { OrderGrouper, type GroupedOrder } from './group.ts';
import { type ImportSettings, resolveColumns } from './mapping.ts';
import type { FileRecord } from './read.ts';
import { type RejectReason, rowReader } from './rows.ts';

export interface RejectedRow {
  line: number;
  reason: RejectReason;
  message: string;
  fields?: string[];
}

export interface ImportCounts {
  /** Data rows read (the header not included). */
  rows: number;
  orders: number;
  byStatus: Partial<Record<Purchase['status'], number>>;
  rejected: Partial<Record<RejectReason, number>>;
}

export interface ImportSinks {
  onOrder(o: GroupedOrder): Promise<void> | void;
  onReject(r: RejectedRow): Promise<void> | void;
}

export async function runImport(
  records: AsyncIterable<FileRecord>,
  s: ImportSettings,
  o: { file: string; limit?: number },
  sinks: ImportSinks,
): Promise<ImportCounts> {
  const counts: ImportCounts = { rows: 0, orders: 0, byStatus: {}, rejected: {} };
  const grouper = new OrderGrouper(s);
  let read: ReturnType<typeof rowReader> | undefined;
  const reject = async (r: RejectedRow) => {
    counts.rejected[r.reason] = (counts.rejected[r.reason] ?? 0) + 1;
    await sinks.onReject(r);
  };
  const emit = async (orders: GroupedOrder[]) => {
    for (const g of orders) {
      counts.orders++;
      counts.byStatus[g.purchase.status] = (counts.byStatus[g.purchase.status] ?? 0) + 1;
      await sinks.onOrder(g);
    }
  };
  for await (const rec of records) {
    if (!read) {
      // the first record names the columns (or, with no header, shows how many there are)
      if ('malformed' in rec) throw new ProfileStreamError('invalid_options', `${o.file} line ${rec.line}: cannot read its columns: ${rec.malformed}`);
      read = rowReader(s, resolveColumns(s.map, rec.fields, s.header, o.file));
      if (s.header) continue;
    }
    if (o.limit !== undefined && counts.rows >= o.limit) break;
    counts.rows++;
    if ('malformed' in rec) {
      await reject({ line: rec.line, reason: 'malformed_row', message: rec.malformed });
      continue;
    }
    const r = read(rec.fields, rec.line);
    if (!r.ok) {
      await reject({ line: rec.line, ...r.rejection, fields: rec.fields });
      continue;
    }
    const added = grouper.add(r.line);
    if (Array.isArray(added)) await emit(added);
    else await reject({ line: rec.line, ...added, fields: rec.fields });
  }
  await emit(grouper.flush());
  return counts;
}
