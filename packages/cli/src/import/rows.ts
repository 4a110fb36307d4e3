/**
 * One row of an imported file → one order line, or a rejection with a reason code. Pure: no I/O, no clock.
 * Amounts are parsed from their decimal text (never through a float) and rounded half away from zero to minor units.
 */
import { DateTime } from 'luxon';
import type { ColumnIndex, ImportSettings } from './mapping.ts';

/** Why a row cannot be used (counted per reason in the summary, one JSON line each in --rejects). */
export const REJECT_REASONS = [
  'missing_column',
  'malformed_row',
  'missing_customer',
  'missing_order',
  'bad_date',
  'bad_quantity',
  'bad_price',
  'zero_quantity',
  'negative_quantity',
  'cancellation_with_positive_quantity',
  'negative_price',
  'zero_price',
  'customer_differs_in_order',
  'order_already_emitted',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface Rejection {
  reason: RejectReason;
  message: string;
}

export interface OrderLine {
  /** Physical line number in the file (1 = the first line). */
  line: number;
  customer: string;
  order: string;
  cancellation: boolean;
  occurredAt: number;
  sku: string | null;
  category: string | null;
  /** Positive; a cancellation's negative quantity is taken back as a positive one. */
  quantity: number;
  unitPriceMinor: number;
  lineMinor: number;
}

/** Number of minor units of a currency (GBP 2, JPY 0, BHD 3), from the platform's ISO 4217 data. */
export function minorDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/** `"2.55"` → 255 (digits 2); half away from zero on the digits dropped; undefined when not a plain decimal. */
export function toMinor(text: string, digits: number): number | undefined {
  const m = DECIMAL.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const frac = m[3] ?? '';
  const keptText = `${m[2]}${frac.slice(0, digits).padEnd(digits, '0')}`.replace(/^0+(?=\d)/, '');
  if (keptText.length > 15) return undefined; // beyond exact doubles
  const minor = Number(keptText) + (frac.charCodeAt(digits) >= 53 /* '5' */ ? 1 : 0);
  return m[1] === '-' && minor !== 0 ? -minor : minor;
}

/** `"17850.0"` (a float-formatted integer id) → `"17850"`; anything else is kept as written (zero padding included). */
export function customerId(text: string): string {
  return /^\d+\.0+$/.test(text) ? text.slice(0, text.indexOf('.')) : text;
}

/**
 * Parses dates in one format and zone. Dates repeat (an order's lines, a day's orders) and luxon's parse is the
 * costliest step of a row, so results are kept, up to 10,000 distinct texts at a time.
 */
export function dateParser(format: string, zone: string): (text: string) => number | undefined {
  const known = new Map<string, number | undefined>();
  return (text) => {
    if (known.has(text)) return known.get(text);
    const dt = format === 'iso' ? DateTime.fromISO(text, { zone }) : DateTime.fromFormat(text, format, { zone });
    const ms = dt.isValid ? dt.toMillis() : undefined;
    if (known.size >= 10_000) known.clear();
    known.set(text, ms);
    return ms;
  };
}

export type RowResult = { ok: true; line: OrderLine } | { ok: false; rejection: Rejection };

/** Builds the row → line function for one import. */
export function rowReader(s: ImportSettings, cols: ColumnIndex): (fields: readonly string[], line: number) => RowResult {
  const digits = minorDigits(s.currency);
  const parseDate = dateParser(s.dateFormat, s.timezone);
  const need = Math.max(...Object.values(cols)) + 1;
  const reject = (reason: RejectReason, message: string): RowResult => ({ ok: false, rejection: { reason, message } });
  const get = (fields: readonly string[], i: number | undefined) => (i === undefined ? '' : (fields[i] ?? '').trim());
  return (fields, line) => {
    if (fields.length < need) return reject('missing_column', `${fields.length} column(s), the mapping needs ${need}`);
    const rawCustomer = get(fields, cols.customer);
    if (rawCustomer === '') return reject('missing_customer', `no ${s.map.customer}`);
    const at = get(fields, cols.at);
    const occurredAt = parseDate(at);
    if (occurredAt === undefined) return reject('bad_date', `${s.map.at} ${JSON.stringify(at)} does not match ${s.dateFormat}`);
    const customer = customerId(rawCustomer);
    // no order column: one order per customer and date text (CDNOW: per customer and day)
    const order = cols.order === undefined ? `${customer}-${at}` : get(fields, cols.order);
    if (order === '') return reject('missing_order', `no ${s.map.order}`);
    const cancellation = s.cancelPrefix !== '' && order.startsWith(s.cancelPrefix);
    let quantity = 1;
    if (cols.quantity !== undefined) {
      const q = get(fields, cols.quantity);
      if (!/^[+-]?\d+$/.test(q) || Math.abs(Number(q)) > 2 ** 31 - 1) return reject('bad_quantity', `${s.map.quantity} ${JSON.stringify(q)} is not an integer`);
      quantity = Number(q);
    }
    if (quantity === 0) return reject('zero_quantity', `${s.map.quantity} is 0`);
    if (cancellation && quantity > 0)
      return reject('cancellation_with_positive_quantity', `order ${order} is a cancellation but ${s.map.quantity} is ${quantity}`);
    if (!cancellation && quantity < 0)
      return reject('negative_quantity', `${s.map.quantity} ${quantity} outside a cancellation (${s.cancelPrefix || 'no'} prefix)`);
    const priceField = cols.price !== undefined ? 'price' : 'amount';
    const priceText = get(fields, cols[priceField]);
    const minor = toMinor(priceText, digits);
    if (minor === undefined) return reject('bad_price', `${s.map[priceField]} ${JSON.stringify(priceText)} is not a decimal number`);
    if (minor < 0) return reject('negative_price', `${s.map[priceField]} is ${priceText}`);
    if (minor === 0 && s.zeroPrice === 'reject') return reject('zero_price', `${s.map[priceField]} is ${priceText} (${s.currency} minor units: 0)`);
    const units = Math.abs(quantity);
    const unitPriceMinor = priceField === 'price' ? minor : 0;
    return {
      ok: true,
      line: {
        line,
        customer,
        order,
        cancellation,
        occurredAt,
        sku: cols.sku === undefined ? null : get(fields, cols.sku),
        category: cols.category === undefined ? null : get(fields, cols.category) || null,
        quantity: units,
        unitPriceMinor,
        lineMinor: priceField === 'price' ? units * minor : minor,
      },
    };
  };
}
