/**
 * `import purchases` on the real stack with the first 2,000 lines of the shared Online Retail file: one event per
 * invoice on the purchases topic, totals = Σ quantity × price in minor units, C invoices as refunds, a re-import
 * sending the same event ids (the stitchers and the warehouse de-duplicate by them), and a wrong mapping failing on
 * line 1. The expectations come from an independent reading of the file in this test (a split on commas outside quotes).
 */
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { beforeAll, test } from 'vitest';
import { REPO_ROOT } from '@profile-stream/consumer-kit';
import { runCli, testEnv, type TestEnv } from './support/index.ts';

const FILE = resolve(REPO_ROOT, '../shared/data/online_retail.csv.gz');
const ROWS = 1999; // + the header: the first 2,000 lines
const dir = mkdtempSync(join(tmpdir(), 'ps-import-'));
let env: TestEnv;
beforeAll(async () => {
  env = await testEnv('import');
});

interface Expected {
  customer: string;
  status: 'completed' | 'refunded';
  total: number;
  lines: number;
}

/** The cleaning rules of the README, applied without the importer's code. */
async function expectedOrders(): Promise<Map<string, Expected>> {
  const orders = new Map<string, Expected>();
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(FILE).pipe(createGunzip()) })) {
    if (n++ === 0) continue;
    if (n > ROWS + 1) break;
    const f = [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(?:,|$)/g)].map((m) => m[1] ?? '');
    const [invoice = '', , , qty = '', , price = '', customer = ''] = f;
    const q = Number(qty);
    const cents = Math.round(Number(price) * 100);
    const cancel = invoice.startsWith('C');
    if (customer === '' || cents <= 0 || (cancel ? q >= 0 : q <= 0)) continue;
    const o = orders.get(invoice) ?? { customer: `retail:${customer.replace(/\.0$/, '')}`, status: cancel ? 'refunded' : 'completed', total: 0, lines: 0 };
    o.total += Math.abs(q) * cents;
    o.lines++;
    orders.set(invoice, o);
  }
  return orders;
}

interface Report {
  rows: number;
  orders: number;
  sent: number;
  byStatus: Record<string, number>;
  rejected: Record<string, number>;
}

function importOnce(rejects: string): Report {
  const r = runCli(['import', 'purchases', FILE, '--preset', 'online-retail', '--limit', String(ROWS), '--rejects', rejects, '--json'], { env: env.childEnv });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Report;
}

function consumed(): Record<string, unknown>[] {
  const c = runCli(['consume', 'purchases'], { env: env.childEnv });
  assert.equal(c.status, 0, c.stderr);
  return c.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test("a wrong mapping fails on line 1 naming the column and the file's columns, and sends nothing", () => {
  const r = runCli(['import', 'purchases', FILE, '--preset', 'online-retail', '--map', 'customer=Customer'], { env: env.childEnv });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /invalid_options: --map customer=Customer: .*online_retail\.csv\.gz line 1 has no column "Customer" \(its columns: "InvoiceNo", .*"CustomerID", "Country"\)/,
  );
  assert.deepEqual(consumed(), []);
});

test('the first 2,000 lines: one event per invoice, totals in minor units, refunds, every rejected row reported; a re-import sends the same ids', async () => {
  const expected = await expectedOrders();
  const rejects = join(dir, 'rejects.jsonl');
  const report = importOnce(rejects);
  assert.equal(report.rows, ROWS);
  assert.equal(report.orders, expected.size);
  assert.equal(report.sent, expected.size);
  const rejectedRows = readFileSync(rejects, 'utf8').trim().split('\n');
  assert.equal(
    rejectedRows.length,
    Object.values(report.rejected).reduce((a, b) => a + b, 0),
  );
  const kept = [...expected.values()].reduce((t, o) => t + o.lines, 0);
  assert.equal(kept + rejectedRows.length, ROWS, 'every row is in an event or in the rejects');

  const events = consumed();
  assert.equal(events.length, expected.size);
  for (const e of events) {
    const x = expected.get(e.order_id as string);
    assert.ok(x, `unexpected order ${String(e.order_id)}`);
    assert.deepEqual([e.user_id, e.status, e.total_minor, e.currency, (e.items as unknown[]).length], [x.customer, x.status, x.total, 'GBP', x.lines]);
  }
  assert.ok(report.byStatus.refunded && report.byStatus.refunded > 0, 'the first lines hold C invoices');

  // again: the same events with the same ids, so the stitchers' and the warehouse's de-duplication keep one of each
  assert.deepEqual(counts(importOnce(join(dir, 'rejects2.jsonl'))), counts(report));
  const twice = consumed();
  assert.equal(twice.length, 2 * events.length);
  const byId = new Map<string, string[]>();
  for (const e of twice) byId.set(e.event_id as string, [...(byId.get(e.event_id as string) ?? []), JSON.stringify(e)]);
  assert.equal(byId.size, events.length);
  for (const [id, copies] of byId) assert.deepEqual(copies, [copies[0], copies[0]], id);
});

/** The report without its timing. */
const counts = ({ rows, orders, sent, byStatus, rejected }: Report) => ({ rows, orders, sent, byStatus, rejected });
