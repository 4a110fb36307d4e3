/**
 * The CDNOW sample of FHL 2005 (2,357 customers of the 1997 Q1 cohort, ../shared/data/cdnow_sample.txt.gz; its README
 * gives the provenance) as the paper uses it: same-day lines merged into one purchase (dollars summed), weeks = days / 7,
 * calibration to 1997-09-30 (end of week 39), holdout 1997-10-01 .. 1998-06-30 (weeks 40–78, 39 weeks).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Rfm } from '../bgnbd.ts';

export interface CdnowCustomer extends Rfm {
  id: string;
  /** Mean dollars of the repeat calibration purchases (0 when x = 0): the paper's z̄ / m_x. */
  zbar: number;
  /** Purchase days in the holdout period. */
  holdout: number;
}

const DAY = 86_400_000;
const START = Date.UTC(1997, 0, 1);
/** Day numbers from 1997-01-01: the last calibration day and the last holdout day. */
export const CALIBRATION_END_DAY = (Date.UTC(1997, 8, 30) - START) / DAY;
export const HOLDOUT_END_DAY = (Date.UTC(1998, 5, 30) - START) / DAY;
export const HOLDOUT_WEEKS = (HOLDOUT_END_DAY - CALIBRATION_END_DAY) / 7;

function dayOf(yyyymmdd: string): number {
  const t = Date.UTC(Number(yyyymmdd.slice(0, 4)), Number(yyyymmdd.slice(4, 6)) - 1, Number(yyyymmdd.slice(6, 8)));
  return Math.round((t - START) / DAY);
}

/** Lines `master_id sample_id yyyymmdd cds dollars` → per customer (x, t_x, T in weeks, z̄, holdout purchase days). */
export function cdnowCustomers(file: string): CdnowCustomer[] {
  const days = new Map<string, Map<number, number>>();
  for (const line of gunzipSync(readFileSync(file)).toString('latin1').split(/\r?\n/)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const [id, , date, , dollars] = f as [string, string, string, string, string];
    const perDay = days.get(id) ?? new Map<number, number>();
    const day = dayOf(date);
    perDay.set(day, (perDay.get(day) ?? 0) + Number(dollars));
    days.set(id, perDay);
  }
  const out: CdnowCustomer[] = [];
  for (const [id, perDay] of days) {
    const sorted = [...perDay.keys()].sort((p, q) => p - q);
    const first = sorted[0] as number;
    const calibration = sorted.filter((d) => d <= CALIBRATION_END_DAY);
    const repeats = calibration.slice(1);
    const x = repeats.length;
    const last = calibration[calibration.length - 1] as number;
    const zbar = x === 0 ? 0 : repeats.reduce((s, d) => s + (perDay.get(d) as number), 0) / x;
    out.push({ id, x, tx: (last - first) / 7, T: (CALIBRATION_END_DAY - first) / 7, zbar, holdout: sorted.length - calibration.length });
  }
  return out;
}
