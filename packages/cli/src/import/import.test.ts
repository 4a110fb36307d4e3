import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fc, test } from '@fast-check/vitest';
import { describe, it } from 'vitest';
import { codeOf, type Purchase } from '@profile-stream/contracts';
import { importSettings, type ImportOptions } from '../commands/import.ts';
import { importEventId, OrderGrouper } from './group.ts';
import { PRESETS, parseColumnMap, resolveColumns } from './mapping.ts';
import { openRecords } from './read.ts';
import { type RejectedRow, runImport } from './run.ts';
import { customerId, dateParser, type OrderLine, toMinor } from './rows.ts';

const dir = mkdtempSync(join(tmpdir(), 'ps-import-'));
let files = 0;

function file(text: string | Buffer, ext = '.csv'): string {
  const path = join(dir, `f${files++}${ext}`);
  writeFileSync(path, text);
  return path;
}

async function run(text: string | Buffer, o: ImportOptions, ext = '.csv') {
  const path = file(text, ext);
  const s = importSettings(path, o);
  const orders: Purchase[] = [];
  const rejects: RejectedRow[] = [];
  const source = await openRecords(path, s.format);
  const counts = await runImport(
    source.records,
    s,
    { file: path, limit: o.limit === undefined ? undefined : Number(o.limit) },
    {
      onOrder: (g) => void orders.push(g.purchase),
      onReject: (r) => void rejects.push(r),
    },
  );
  return { counts, orders, rejects, path };
}

const RETAIL_HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
const retail = (...rows: string[]) => [RETAIL_HEADER, ...rows].join('\n');
const RETAIL = { preset: 'online-retail' } as const;

describe('mapping', () => {
  it('parses --map pairs and refuses unknown fields and malformed pairs', () => {
    assert.deepEqual(parseColumnMap('customer=Cust ID, at=When,price=P'), { customer: 'Cust ID', at: 'When', price: 'P' });
    assert.throws(() => parseColumnMap('client=X'), /unknown field "client"/);
    assert.throws(() => parseColumnMap('customer'), /expected field=column/);
  });

  it('lets --map replace preset entries one by one and checks what the mapping needs', () => {
    const s = importSettings('x.csv', { preset: 'online-retail', map: 'customer=Client' });
    assert.deepEqual(s.map, { ...PRESETS['online-retail'].map, customer: 'Client' });
    assert.equal(s.currency, 'GBP');
    assert.throws(() => importSettings('x.csv', { map: 'customer=C,at=D' }), /price \(unit price\) or amount/);
    assert.throws(() => importSettings('x.csv', { map: 'customer=C,at=D,sku=S,amount=A', currency: 'USD' }), /need a unit price/);
    assert.throws(() => importSettings('x.csv', { preset: 'retail' }), /--preset: expected online-retail or cdnow/);
    assert.throws(() => importSettings('x.csv', { preset: 'cdnow', currency: 'dollars' }), /--currency/);
    assert.throws(() => importSettings('x.csv', { preset: 'cdnow', timezone: 'Mars/Olympus' }), /--timezone/);
    for (const zone of ['UTC', 'Etc/GMT+5', 'America/New_York']) assert.equal(importSettings('x.csv', { preset: 'cdnow', timezone: zone }).timezone, zone);
    assert.equal(importSettings('/d/orders-2020.csv.gz', { map: 'customer=C,at=D,amount=A', currency: 'eur' }).source, 'orders-2020');
  });

  it('a wrong mapping fails on line 1, naming the column and the columns the file has', async () => {
    // line 2 would be fine: the failure must come before any row is used
    const err = await run(retail('536365,85123A,X,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom'), { ...RETAIL, map: 'customer=CustomerId' }).catch(
      (e: unknown) => e,
    );
    assert.equal(codeOf(err), 'invalid_options');
    assert.match(
      String((err as Error).message),
      /customer=CustomerId: .* line 1 has no column "CustomerId" \(its columns: "InvoiceNo", .*"CustomerID", "Country"\)/,
    );
  });

  it('without a header, columns are named by position', () => {
    assert.deepEqual(resolveColumns({ customer: '1', at: '3', amount: '5' }, ['a', 'b', 'c', 'd', 'e'], false, 'f'), { customer: 0, at: 2, amount: 4 });
    assert.throws(() => resolveColumns({ customer: '6', at: '1', amount: '2' }, ['a', 'b'], false, 'f'), /no column "6" \(its columns: "1", "2"\)/);
  });
});

describe('values', () => {
  it('amounts in minor units, half away from zero, never through a float', () => {
    assert.equal(toMinor('2.55', 2), 255);
    assert.equal(toMinor('0.001', 2), 0);
    assert.equal(toMinor('0.005', 2), 1);
    assert.equal(toMinor('-11062.06', 2), -1106206);
    assert.equal(toMinor('-0.004', 2), 0);
    assert.equal(toMinor('12', 0), 12);
    assert.equal(toMinor('.5', 2), 50);
    for (const bad of ['', '.', '1e3', '1,5', 'abc', '2.5.5']) assert.equal(toMinor(bad, 2), undefined, bad);
  });

  test.prop([
    fc.oneof(fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }), fc.bigInt({ min: -100000n, max: 100000n })),
    fc.integer({ min: 0, max: 6 }),
    fc.integer({ min: 0, max: 3 }),
  ])('toMinor equals exact rational rounding', (n, scale, digits) => {
    const abs = n < 0n ? -n : n;
    const s = abs.toString().padStart(scale + 1, '0');
    const text = `${n < 0n ? '-' : ''}${scale ? `${s.slice(0, -scale)}.${s.slice(-scale)}` : s}`;
    // |n| / 10^scale * 10^digits, rounded half up on the magnitude
    const den = 10n ** BigInt(scale);
    const rounded = (abs * 10n ** BigInt(digits) * 2n + den) / (2n * den);
    const kept = (abs * 10n ** BigInt(digits)) / den;
    assert.equal(toMinor(text, digits), kept >= 10n ** 15n ? undefined : Number(n < 0n && rounded !== 0n ? -rounded : rounded));
  });

  it('float-formatted customer ids lose their .0; others are kept as written', () => {
    assert.equal(customerId('17850.0'), '17850');
    assert.equal(customerId('00001'), '00001');
    assert.equal(customerId('17850.5'), '17850.5');
    assert.equal(customerId('AB-1.0'), 'AB-1.0');
  });

  it('dates in a format and a zone', () => {
    assert.equal(dateParser('M/d/yyyy H:mm', 'UTC')('12/1/2010 8:26'), Date.UTC(2010, 11, 1, 8, 26));
    assert.equal(dateParser('yyyyMMdd', 'UTC')('19970112'), Date.UTC(1997, 0, 12));
    assert.equal(dateParser('iso', 'UTC')('2011-06-01T10:00:00+02:00'), Date.UTC(2011, 5, 1, 8));
    const london = dateParser('yyyy-MM-dd HH:mm:ss', 'Europe/London');
    assert.equal(london('2011-06-01 10:00:00'), Date.UTC(2011, 5, 1, 9)); // BST
    assert.equal(london('2010-12-01 08:26:00'), Date.UTC(2010, 11, 1, 8, 26)); // GMT
    assert.equal(london('2010-12-01 8:26'), undefined);
    assert.equal(dateParser('yyyyMMdd', 'UTC')('19971332'), undefined);
  });
});

describe('reading files', () => {
  it('CSV per RFC 4180: quotes, embedded commas, doubled quotes; line numbers; gzip the same as plain', async () => {
    const text = retail(
      '536365,85123A,"WHITE, HANGING ""HEART""",6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom',
      '',
      '536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom',
      '536366,22633,"HAND WARMER, UNION JACK",6,2010-12-01 08:28:00,1.85,,United Kingdom',
    );
    const plain = await run(text, RETAIL);
    const gz = await run(gzipSync(text), RETAIL, '.csv.gz');
    assert.deepEqual(gz.orders, plain.orders);
    assert.equal(plain.counts.rows, 3);
    assert.equal(plain.orders.length, 1);
    assert.deepEqual(
      plain.orders[0]?.items.map((i) => [i.sku, i.quantity, i.unit_price_minor]),
      [
        ['85123A', 6, 255],
        ['71053', 6, 339],
      ],
    );
    assert.deepEqual(
      plain.rejects.map((r) => [r.line, r.reason]),
      [[5, 'missing_customer']],
    );
  });

  it('a stray quote inside a field is text; an unclosed quote is a malformed row at the line it starts', async () => {
    const r = await run(
      retail(
        '536365,85123A,"BROKEN"QUOTE,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom',
        '536366,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom',
        '536367,71053,"OPEN QUOTE,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom',
        '536368,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom',
      ),
      RETAIL,
    );
    assert.deepEqual(
      r.rejects.map((x) => [x.line, x.reason]),
      [[4, 'malformed_row']],
    );
    assert.match(r.rejects[0]?.message ?? '', /Quote Not Closed/);
    assert.deepEqual(
      r.orders.map((o) => o.order_id),
      ['536365', '536366'],
    );
  });

  it("CDNOW: whitespace columns, CRLF, one order per customer and day with the day's dollars, no items", async () => {
    const text = [
      ' customer_id  date number_of_cds  dollar_value',
      ' 00001 19970101  1   11.77',
      ' 00001 19970101  2   20.00',
      ' 00001 19970118  1    0.00',
      ' 00002 19970112  1   12.00',
      '',
    ].join('\r\n');
    const r = await run(text, { preset: 'cdnow' }, '.txt');
    assert.deepEqual(r.rejects, []);
    assert.deepEqual(
      r.orders.map((o) => [o.user_id, o.order_id, o.occurred_at, o.total_minor, o.currency, o.items.length]),
      [
        ['cdnow:00001', '00001-19970101', Date.UTC(1997, 0, 1), 3177, 'USD', 0],
        ['cdnow:00001', '00001-19970118', Date.UTC(1997, 0, 18), 0, 'USD', 0],
        ['cdnow:00002', '00002-19970112', Date.UTC(1997, 0, 12), 1200, 'USD', 0],
      ],
    );
    // the sample file: no header, two id columns
    const sample = await run('00001 0001 19970101 1 11.77\r\n', { preset: 'cdnow', header: false, map: 'customer=1,at=3,quantity=4,amount=5' }, '.txt');
    assert.equal(sample.orders[0]?.total_minor, 1177);
  });

  it('--limit reads only the first rows', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => `5363${60 + i},A,X,1,2010-12-01 08:26:00,1.00,17850.0,UK`);
    const r = await run(retail(...rows), { ...RETAIL, limit: '4' });
    assert.equal(r.counts.rows, 4);
    assert.equal(r.orders.length, 4);
  });
});

describe('rows that cannot be used', () => {
  it('each gets its line and reason; nothing is dropped silently', async () => {
    const r = await run(
      retail(
        '536365,A,X,6,2010-12-01 08:26:00,2.55,,UK',
        '536365,A,X,6,12/01/2010 08:26,2.55,17850.0,UK',
        '536365,A,X,six,2010-12-01 08:26:00,2.55,17850.0,UK',
        '536365,A,X,0,2010-12-01 08:26:00,2.55,17850.0,UK',
        '536365,A,X,-2,2010-12-01 08:26:00,2.55,17850.0,UK',
        'C536379,D,Discount,1,2010-12-01 09:41:00,27.50,14527.0,UK',
        'A563185,B,Adjust bad debt,1,2011-08-12 14:50:00,-11062.06,12345.0,UK',
        '536365,A,X,6,2010-12-01 08:26:00,0.00,17850.0,UK',
        '536365,A,X,6,2010-12-01 08:26:00,£2,17850.0,UK',
        '536365,A,X',
        '536365,A,X,6,2010-12-01 08:26:00,2.55,17850.0,UK',
        '536365,B,X,1,2010-12-01 08:26:00,1.00,99999.0,UK',
      ),
      RETAIL,
    );
    assert.deepEqual(
      r.rejects.map((x) => [x.line, x.reason]),
      [
        [2, 'missing_customer'],
        [3, 'bad_date'],
        [4, 'bad_quantity'],
        [5, 'zero_quantity'],
        [6, 'negative_quantity'],
        [7, 'cancellation_with_positive_quantity'],
        [8, 'negative_price'],
        [9, 'zero_price'],
        [10, 'bad_price'],
        [11, 'missing_column'],
        [13, 'customer_differs_in_order'],
      ],
    );
    assert.equal(r.counts.rows, 12);
    assert.equal(
      Object.values(r.counts.rejected).reduce((a, b) => a + b, 0),
      11,
    );
    assert.deepEqual(r.rejects[0]?.fields, ['536365', 'A', 'X', '6', '2010-12-01 08:26:00', '2.55', '', 'UK']);
    assert.equal(r.orders.length, 1);
    // --zero-price keep: the free line stays in its order
    const kept = await run(retail('536365,A,X,6,2010-12-01 08:26:00,0.00,17850.0,UK'), { ...RETAIL, zeroPrice: 'keep' });
    assert.equal(kept.orders[0]?.total_minor, 0);
  });

  it('a line of an order already sent is rejected, not sent as a second event', () => {
    const g = new OrderGrouper(PRESETS['online-retail'], 1);
    const line = (order: string, n: number): OrderLine => ({
      line: n,
      customer: '1',
      order,
      cancellation: false,
      occurredAt: n,
      sku: 'S',
      category: null,
      quantity: 1,
      unitPriceMinor: 100,
      lineMinor: 100,
    });
    assert.deepEqual(g.add(line('a', 2)), []);
    const out = g.add(line('b', 3));
    assert.ok(Array.isArray(out));
    assert.deepEqual(
      out.map((o) => o.purchase.order_id),
      ['a'],
    );
    assert.equal((g.add(line('a', 4)) as { reason: string }).reason, 'order_already_emitted');
    assert.deepEqual(
      g.flush().map((o) => o.purchase.order_id),
      ['b'],
    );
  });
});

describe('orders', () => {
  it('an invoice is one completed purchase; a C invoice one refunded purchase of what it takes back', async () => {
    const r = await run(
      retail(
        '581483,23843,"PAPER CRAFT , LITTLE BIRDIE",80995,2011-12-09 09:15:00,2.08,16446.0,United Kingdom',
        '581483,23166,X,2,2011-12-09 09:14:00,1.25,16446.0,United Kingdom',
        'C581484,23843,"PAPER CRAFT , LITTLE BIRDIE",-80995,2011-12-09 09:27:00,2.08,16446.0,United Kingdom',
      ),
      RETAIL,
    );
    const [buy, back] = r.orders;
    assert.ok(buy && back);
    assert.deepEqual(
      { ...buy, items: buy.items.length },
      {
        event_id: importEventId('online-retail', '581483', 'completed'),
        occurred_at: Date.UTC(2011, 11, 9, 9, 14), // the earliest line
        account: null,
        anonymous_id: null,
        user_id: 'retail:16446',
        email: null,
        phone: null,
        order_id: '581483',
        status: 'completed',
        channel: 'web',
        currency: 'GBP',
        total_minor: 80995 * 208 + 2 * 125,
        items: 2,
      },
    );
    assert.equal(back.status, 'refunded');
    assert.equal(back.order_id, 'C581484');
    assert.equal(back.total_minor, 80995 * 208);
    assert.deepEqual(back.items, [{ sku: '23843', category: null, quantity: 80995, unit_price_minor: 208 }]);
    assert.deepEqual(r.counts.byStatus, { completed: 1, refunded: 1 });
  });

  it('event ids depend on source, order and status only', () => {
    const id = importEventId('online-retail', '536365', 'completed');
    assert.equal(importEventId('online-retail', '536365', 'completed'), id);
    assert.notEqual(importEventId('online-retail', '536365', 'refunded'), id);
    assert.notEqual(importEventId('cdnow', '536365', 'completed'), id);
    assert.notEqual(importEventId('online-retail', '536366', 'completed'), id);
  });

  const orderArb = fc.record({
    customer: fc.integer({ min: 10000, max: 10020 }),
    lines: fc.array(fc.record({ qty: fc.integer({ min: 1, max: 500 }), cents: fc.integer({ min: 1, max: 100000 }), minute: fc.integer({ min: 0, max: 59 }) }), {
      minLength: 1,
      maxLength: 5,
    }),
  });

  test.prop([fc.array(orderArb, { minLength: 1, maxLength: 30 })], { numRuns: 60 })(
    'one event per order with Σ quantity × price, the same events on a re-import',
    async (orders) => {
      const rows = orders.flatMap((o, i) =>
        o.lines.map(
          (l) =>
            `${600000 + i},S${l.qty},"D, ""x""",${l.qty},2011-01-03 10:${String(l.minute).padStart(2, '0')}:00,${Math.floor(l.cents / 100)}.${String(l.cents % 100).padStart(2, '0')},${o.customer}.0,UK`,
        ),
      );
      const first = await run(retail(...rows), RETAIL);
      const again = await run(retail(...rows), RETAIL);
      assert.deepEqual(again.orders, first.orders);
      assert.deepEqual(first.rejects, []);
      assert.deepEqual(
        first.orders.map((p) => [p.order_id, p.user_id, p.total_minor, p.occurred_at]),
        orders.map((o, i) => [
          String(600000 + i),
          `retail:${o.customer}`,
          o.lines.reduce((t, l) => t + l.qty * l.cents, 0),
          Date.UTC(2011, 0, 3, 10, Math.min(...o.lines.map((l) => l.minute))),
        ]),
      );
      assert.equal(new Set(first.orders.map((p) => p.event_id)).size, orders.length);
    },
  );
});
