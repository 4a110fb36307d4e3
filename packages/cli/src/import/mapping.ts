/**
 * Column mappings of `import purchases`: which column of the file holds which Purchase field, the ready-made presets
 * for the two public data sets in shared/data, and the check of a mapping against the file's first line (a wrong
 * mapping fails there, naming the column it could not find and the columns the file has).
 */
import { ProfileStreamError } from '@profile-stream/contracts';

/** Fields a column can be mapped to. `customer` and `at` are required; `price` (unit price) or `amount` (line total) too. */
export const MAPPED_FIELDS = ['customer', 'order', 'at', 'sku', 'category', 'quantity', 'price', 'amount'] as const;
export type MappedField = (typeof MAPPED_FIELDS)[number];
export type ColumnMap = Partial<Record<MappedField, string>>;

export interface ImportSettings {
  /** Names the source in event ids (stable across re-imports) and in nothing else. */
  source: string;
  map: ColumnMap;
  format: 'csv' | 'whitespace';
  /** false: columns are named by their 1-based position ("1", "2", …). */
  header: boolean;
  /** A luxon format (`M/d/yyyy H:mm`, `yyyyMMdd`, `yyyy-MM-dd HH:mm:ss`) or `iso`. */
  dateFormat: string;
  timezone: string;
  currency: string;
  /** Prepended to the customer id to make `user_id` (`retail:12345`). */
  userPrefix: string;
  /** Order ids starting with this are cancellations (Online Retail: `C`); '' for none. */
  cancelPrefix: string;
  /** A unit price (or line amount) of 0: keep the line, or reject it. Negative prices are always rejected. */
  zeroPrice: 'keep' | 'reject';
}

export type PresetName = 'online-retail' | 'cdnow';

export const PRESETS: Record<PresetName, ImportSettings> = {
  // UCI Online Retail as in shared/data: InvoiceDate is UK local time, CustomerID is float-formatted (17850.0).
  'online-retail': {
    source: 'online-retail',
    map: { customer: 'CustomerID', order: 'InvoiceNo', at: 'InvoiceDate', sku: 'StockCode', quantity: 'Quantity', price: 'UnitPrice' },
    format: 'csv',
    header: true,
    dateFormat: 'yyyy-MM-dd HH:mm:ss',
    timezone: 'Europe/London',
    currency: 'GBP',
    userPrefix: 'retail:',
    cancelPrefix: 'C',
    zeroPrice: 'reject',
  },
  // CDNOW master (lifetimes' header line): no order id and no time of day, so one order per customer and day;
  // zero-dollar lines are kept because the BG/NBD paper counts them as purchases.
  cdnow: {
    source: 'cdnow',
    map: { customer: 'customer_id', at: 'date', quantity: 'number_of_cds', amount: 'dollar_value' },
    format: 'whitespace',
    header: true,
    dateFormat: 'yyyyMMdd',
    timezone: 'UTC',
    currency: 'USD',
    userPrefix: 'cdnow:',
    cancelPrefix: '',
    zeroPrice: 'keep',
  },
};

const invalid = (message: string) => new ProfileStreamError('invalid_options', message);

/** `customer=CustomerID,order=InvoiceNo,…` → a ColumnMap; unknown fields and malformed pairs are refused. */
export function parseColumnMap(text: string): ColumnMap {
  const map: ColumnMap = {};
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    const field = pair.slice(0, eq).trim();
    const column = pair.slice(eq + 1).trim();
    if (eq < 0 || column === '') throw invalid(`--map: expected field=column, got ${JSON.stringify(pair)}`);
    if (!(MAPPED_FIELDS as readonly string[]).includes(field))
      throw invalid(`--map: unknown field ${JSON.stringify(field)} (fields: ${MAPPED_FIELDS.join(', ')})`);
    map[field as MappedField] = column;
  }
  return map;
}

/** The fields a mapping must name before any file is read. */
export function checkColumnMap(map: ColumnMap): void {
  for (const f of ['customer', 'at'] as const) if (!map[f]) throw invalid(`--map: no column for ${f}`);
  if (!map.price && !map.amount) throw invalid('--map: no column for price (unit price) or amount (line total)');
  if (map.sku && !map.price) throw invalid('--map: items (sku) need a unit price column (price)');
}

/** Column positions of the mapped fields. */
export type ColumnIndex = Partial<Record<MappedField, number>>;

/**
 * Finds each mapped column in the file's first line (its header, or with no header its 1-based positions). Fails with
 * the first column it could not find and the columns the file has.
 */
export function resolveColumns(map: ColumnMap, firstLine: readonly string[], header: boolean, file: string): ColumnIndex {
  const names = header ? firstLine.map((c) => c.trim()) : firstLine.map((_, i) => String(i + 1));
  const index: ColumnIndex = {};
  for (const field of MAPPED_FIELDS) {
    const column = map[field];
    if (column === undefined) continue;
    const i = names.indexOf(column);
    if (i < 0)
      throw invalid(
        `--map ${field}=${column}: ${file} line 1 has no column ${JSON.stringify(column)} (its columns: ${names.map((n) => JSON.stringify(n)).join(', ')})`,
      );
    index[field] = i;
  }
  return index;
}
