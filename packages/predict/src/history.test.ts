import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'vitest';
import { historyOf, type OrderPoint } from './history.ts';
import { cdnowCustomers } from './testing/cdnow.ts';

const DAY = 86_400_000;
const SAMPLE = resolve(fileURLToPath(new URL('../../..', import.meta.url)), '../shared/data/cdnow_sample.txt.gz');

describe('historyOf', () => {
  it("gives the paper's (x, t_x, T, z̄) for every CDNOW customer from the raw lines (one order per line, days merged)", () => {
    const orders = new Map<string, OrderPoint[]>();
    for (const line of gunzipSync(readFileSync(SAMPLE)).toString('latin1').split(/\r?\n/)) {
      const [id, , d, , dollars] = line.trim().split(/\s+/);
      if (id === undefined || d === undefined || dollars === undefined) continue;
      const at = Date.UTC(Number(d.slice(0, 4)), Number(d.slice(4, 6)) - 1, Number(d.slice(6, 8)), 10);
      orders.set(id, [...(orders.get(id) ?? []), { at, net_minor: Math.round(Number(dollars) * 100), currency: 'USD' }]);
    }
    const asOf = Date.UTC(1997, 8, 30, 23, 59);
    let checked = 0;
    for (const c of cdnowCustomers(SAMPLE)) {
      const h = historyOf(orders.get(c.id) ?? [], asOf);
      assert.ok(h !== null);
      assert.equal(h.x, c.x, c.id);
      assert.ok(Math.abs(h.tx_days / 7 - c.tx) < 1e-9, c.id);
      // T is measured from the start of the first day; the paper's from the first day to 1997-09-30 (the same day count).
      assert.ok(Math.abs(Math.floor(h.T_days) / 7 - c.T) < 1e-9, `${c.id}: ${h.T_days} vs ${c.T * 7}`);
      if (c.x > 0 && c.zbar > 0) assert.ok(Math.abs((h.mean_order_minor as number) - c.zbar * 100) < 0.5, c.id);
      checked++;
    }
    assert.equal(checked, 2357);
  });

  it('merges orders of one UTC day, leaves out later orders, values repeat days in the main currency', () => {
    const t = Date.UTC(2025, 0, 1, 9);
    const orders: OrderPoint[] = [
      { at: t, net_minor: 1000, currency: 'EUR' },
      { at: t + 3600_000, net_minor: 500, currency: 'EUR' },
      { at: t + 10 * DAY, net_minor: 3000, currency: 'EUR' },
      { at: t + 10 * DAY + 60_000, net_minor: 999, currency: 'GBP' },
      { at: t + 20 * DAY, net_minor: 5000, currency: 'EUR' },
      { at: t + 90 * DAY, net_minor: 7000, currency: 'EUR' },
    ];
    const h = historyOf(orders, t + 30 * DAY);
    assert.deepEqual(h, { x: 2, tx_days: 20, T_days: 30 + 9 / 24, mean_order_minor: 4000, currency: 'EUR', orders: 5 });
    assert.equal(historyOf(orders, t - 1), null);
    assert.equal(
      historyOf(
        [
          { at: t, net_minor: 0, currency: 'EUR' },
          { at: t + DAY, net_minor: 0, currency: 'EUR' },
        ],
        t + 2 * DAY,
      )?.mean_order_minor,
      null,
    );
  });
});
