// The account columns of the raw rows (migration 0008) on embedded chDB: purchaseRows → purchases, and the analyst
// query "revenue by account" against the answer computed here from the events.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { openClickHouse, type ClickHouseClient } from '@profile-stream/clickhouse';
import { createLogger, REPO_ROOT } from '@profile-stream/consumer-kit';
import type { Purchase } from '@profile-stream/contracts';
import { clickEvent, purchase as purchaseEvent } from '@profile-stream/contracts/testing';
import { migrate } from './migrations.ts';
import { piiStorer } from './pii.ts';
import { ANALYST_QUERIES, analystSql } from './queries.ts';
import { clickRows, purchaseRows, type RowOptions } from './rows.ts';
import { insertRows } from './sink.ts';

const log = createLogger({ name: 'accounts-warehouse-test', level: 'silent' });
const DB = 'accounts_test';
const D = 86_400_000;
const T0 = Date.UTC(2025, 2, 1);
let client: ClickHouseClient;
const o: RowOptions = { storePii: piiStorer('hash', 'k'), defaultRegion: 'GB', blocklist: new Set(), now: T0 + 400 * D, maxFutureMs: D };

beforeAll(async () => {
  client = openClickHouse({ dataDir: join(mkdtempSync(join(tmpdir(), 'ps-accounts-')), 'chdb') }).client;
  await migrate(client, { database: DB, dir: resolve(REPO_ROOT, 'infra/clickhouse'), log });
  await client.command({ query: `USE ${DB}` });
});
afterAll(async () => {
  await client.close();
});

let n = 0;
const acme = (name: string | null) => ({ account_id: ' acct-1 ', name, domain: 'ACME.example' });
function purchase(user: string, account: Purchase['account'], status: Purchase['status'], total: number, order: string, currency = 'GBP'): Purchase {
  return purchaseEvent({ event_id: `p-${n++}`, occurred_at: T0 + n * D, user_id: user, account, order_id: order, status, currency, total_minor: total });
}

const EVENTS: Purchase[] = [
  purchase('a', acme('Acme'), 'completed', 1000, 'o1'),
  purchase('b', acme(null), 'completed', 500, 'o2'),
  purchase('b', acme('Acme Ltd'), 'refunded', 200, 'o2'),
  purchase('a', acme('  '), 'completed', 300, 'o3', 'EUR'),
  purchase('c', { account_id: 'acct-2', name: 'Globex', domain: null }, 'completed', 50, 'o4'),
  purchase('d', null, 'completed', 9999, 'o5'),
];

describe('accounts in the warehouse', () => {
  it('raw rows carry the account the event names (trimmed, domain lower-case, NULL when none)', async () => {
    const [row] = purchaseRows(EVENTS[0]!, o).purchases!;
    assert.deepEqual([row!.account_id, row!.account_name, row!.account_domain], ['acct-1', 'Acme', 'acme.example']);
    const [none] = purchaseRows(EVENTS[5]!, o).purchases!;
    assert.deepEqual([none!.account_id, none!.account_name, none!.account_domain], [null, null, null]);
    const { event_id, occurred_at, user_id } = EVENTS[0]!;
    const click = clickEvent({ event_id, occurred_at, user_id, account: { account_id: 'acct-1', name: null, domain: null } });
    assert.equal(clickRows(click, o).clickstream_events![0]!.account_id, 'acct-1');
  });

  it('revenue by account: net revenue, orders and contacts per account and currency', async () => {
    for (const e of EVENTS) for (const [table, rows] of Object.entries(purchaseRows(e, o))) if (rows?.length) await insertRows(client, table, rows);
    const q = ANALYST_QUERIES.find((x) => x.id === 'revenue_by_account')!;
    const res = await client.query({ query: analystSql(q), format: 'JSONEachRow' });
    const rows = (await res.json()) as Record<string, unknown>[];
    // by hand from EVENTS: acct-1 GBP 1000 + 500 − 200 (orders o1, o2; contacts a, b; the latest name stated: "Acme Ltd")
    assert.deepEqual(
      rows.map((r) => [r.account_id, r.account_name, r.currency, Number(r.net_minor), Number(r.orders), Number(r.contacts)]),
      [
        ['acct-1', 'Acme Ltd', 'GBP', 1300, 2, 2],
        ['acct-1', null, 'EUR', 300, 1, 1],
        ['acct-2', 'Globex', 'GBP', 50, 1, 1],
      ],
    );
  });
});
