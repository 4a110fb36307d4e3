/**
 * The paper's holdout check (FHL 2005, figure 5): customers grouped by calibration frequency 0, 1, …, 6, 7+; in each
 * group the mean actual number of purchases in the holdout period next to the mean BG/NBD expectation E[Y(t) | x, t_x, T].
 */
import { type BgNbdParams, expectedPurchases, type Rfm } from './bgnbd.ts';

export interface HoldoutCustomer extends Rfm {
  /** Purchases actually made in the holdout period. */
  holdout: number;
}

export interface HoldoutRow {
  /** '0' … '6', '7+'. */
  frequency: string;
  customers: number;
  actual: number;
  expected: number;
  /** Standard error of the actual mean (sample standard deviation / √n), to judge the gap by. */
  actualStdError: number;
}

export function holdoutTable(params: BgNbdParams, customers: readonly HoldoutCustomer[], holdoutLength: number, top = 7): HoldoutRow[] {
  const rows: HoldoutRow[] = [];
  for (let k = 0; k <= top; k++) {
    const group = customers.filter((c) => (k < top ? c.x === k : c.x >= top));
    const n = group.length;
    if (n === 0) {
      rows.push({ frequency: k < top ? `${k}` : `${top}+`, customers: 0, actual: 0, expected: 0, actualStdError: 0 });
      continue;
    }
    const actual = group.reduce((s, c) => s + c.holdout, 0) / n;
    const expected = group.reduce((s, c) => s + expectedPurchases(params, c, holdoutLength), 0) / n;
    const variance = n > 1 ? group.reduce((s, c) => s + (c.holdout - actual) ** 2, 0) / (n - 1) : 0;
    rows.push({ frequency: k < top ? `${k}` : `${top}+`, customers: n, actual, expected, actualStdError: Math.sqrt(variance / n) });
  }
  return rows;
}

/** The table as Markdown, as the report and the test's artefact print it. */
export function holdoutMarkdown(rows: readonly HoldoutRow[]): string {
  const lines = ['| calibration frequency | customers | actual (mean) | BG/NBD expected (mean) | std. error of actual |', '|---:|---:|---:|---:|---:|'];
  for (const r of rows) lines.push(`| ${r.frequency} | ${r.customers} | ${r.actual.toFixed(3)} | ${r.expected.toFixed(3)} | ${r.actualStdError.toFixed(3)} |`);
  return lines.join('\n');
}
