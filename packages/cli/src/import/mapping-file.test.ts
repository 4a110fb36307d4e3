import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { codeOf, type Purchase } from '@profile-stream/contracts';
import { type ImportOptions, importSettings } from '../commands/import.ts';
import { PRESETS } from './mapping.ts';
import { parseMappingFile } from './mapping-file.ts';
import { openRecords } from './read.ts';
import { runImport } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'ps-mapping-'));
let files = 0;
function file(text: string, ext: string): string {
  const path = join(dir, `f${files++}${ext}`);
  writeFileSync(path, text);
  return path;
}

async function orders(data: string, o: ImportOptions): Promise<Purchase[]> {
  const path = file(data, '.csv');
  const s = importSettings(path, o);
  const out: Purchase[] = [];
  await runImport((await openRecords(path, s.format)).records, s, { file: path }, { onOrder: (g) => void out.push(g.purchase), onReject: () => {} });
  return out;
}

// A shop's own export: other column names, US dates in New York, dollars.
const SHOP = ['Order;Client;When;Item;Qty;Each', 'A1;42;3/1/2024 9:05;SKU-1;2;1.50', 'A1;42;3/1/2024 9:05;SKU-2;1;4.00', 'A2;7;3/2/2024 18:30;SKU-1;1;1.50']
  .join('\n')
  .replaceAll(';', ',');
const SHOP_YAML = `# orders exported from the shop
map:
  customer: Client
  order: Order
  at: When
  sku: Item
  quantity: Qty
  price: Each
date_format: M/d/yyyy H:mm
timezone: America/New_York
currency: usd
user_prefix: "shop:"
source: shop-2024
zero_price: reject
`;

describe('--mapping file.yaml', () => {
  it('sets what the options set, and the import gives the same orders as the equivalent options', async () => {
    const mapping = file(SHOP_YAML, '.yaml');
    const s = importSettings('x.csv', { mapping });
    assert.deepEqual(s, {
      source: 'shop-2024',
      map: { customer: 'Client', order: 'Order', at: 'When', sku: 'Item', quantity: 'Qty', price: 'Each' },
      format: 'csv',
      header: true,
      dateFormat: 'M/d/yyyy H:mm',
      timezone: 'America/New_York',
      currency: 'USD',
      userPrefix: 'shop:',
      cancelPrefix: '',
      zeroPrice: 'reject',
    });
    const viaOptions = await orders(SHOP, {
      map: 'customer=Client,order=Order,at=When,sku=Item,quantity=Qty,price=Each',
      dateFormat: 'M/d/yyyy H:mm',
      timezone: 'America/New_York',
      currency: 'usd',
      userPrefix: 'shop:',
      source: 'shop-2024',
      zeroPrice: 'reject',
    });
    const viaFile = await orders(SHOP, { mapping });
    assert.equal(viaFile.length, 2);
    assert.deepEqual(viaFile, viaOptions);
    assert.equal(viaFile[0]?.occurred_at, Date.parse('2024-03-01T09:05:00-05:00'));
    assert.equal(viaFile[0]?.total_minor, 700);
  });

  it('preset < file < command line; --map entries replace the file’s one by one; header: false only from the file or --no-header', () => {
    const mapping = file('preset: online-retail\nmap:\n  customer: Client\ncurrency: EUR\nheader: false\n', '.yml');
    const s = importSettings('x.csv', { mapping, header: true, currency: 'CHF', map: 'at=Date' });
    assert.deepEqual(s.map, { ...PRESETS['online-retail'].map, customer: 'Client', at: 'Date' });
    assert.deepEqual([s.currency, s.header, s.timezone, s.cancelPrefix], ['CHF', false, 'Europe/London', 'C']);
    assert.equal(importSettings('x.csv', { mapping, preset: 'cdnow', map: 'customer=1,at=3,amount=5' }).source, 'cdnow');
    assert.deepEqual(parseMappingFile('m', 'map:\n  customer: 1\n  at: 3\n  amount: 5\nheader: false').map, { customer: '1', at: '3', amount: '5' });
  });

  it('a wrong column fails on line 1, naming it and the columns the file has', async () => {
    const mapping = file(SHOP_YAML.replace('customer: Client', 'customer: Customer'), '.yaml');
    const err = await orders(SHOP, { mapping }).catch((e: unknown) => e);
    assert.equal(codeOf(err), 'invalid_options');
    assert.match(String((err as Error).message), /customer=Customer: .* line 1 has no column "Customer" \(its columns: "Order", "Client", "When"/);
  });

  it('refuses what it does not know, naming the key, field or value, and a file that is not there or not a mapping', () => {
    const refused = (text: string, re: RegExp) =>
      assert.throws(
        () => parseMappingFile('m.yaml', text),
        (e: unknown) => codeOf(e) === 'invalid_options' && re.test(String(e)),
      );
    refused('map:\n  client: X\n', /--mapping m\.yaml: map: unknown field "client"/);
    refused('mapp:\n  customer: X\n', /unknown key "mapp"/);
    refused('map:\n  customer: ""\n', /map\.customer: expected a column name/);
    refused('map: customer=X\n', /map: expected field: column pairs/);
    refused('header: no-thanks\n', /header: expected true or false/);
    refused('currency: 978\n', /currency: expected text/);
    refused('- a\n- b\n', /expected a mapping of settings/);
    refused('map: [\n', /not YAML/);
    assert.throws(() => importSettings('x.csv', { mapping: join(dir, 'missing.yaml') }), /--mapping .*missing\.yaml: cannot read it/);
    assert.throws(() => importSettings('x.csv', { mapping: file('preset: retail\n', '.yaml') }), /--preset: expected online-retail or cdnow/);
  });
});
