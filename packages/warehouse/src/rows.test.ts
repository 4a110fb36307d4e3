// Event → row mapping (pure): normalised and hashed identifiers, signed amounts, and the DLQ codes of bad values.
import assert from 'node:assert/strict';
import { test } from 'vitest';
import type { ClickEvent, ProfileChanged, Purchase } from '@profile-stream/contracts';
import { clickEvent } from '@profile-stream/contracts/testing';
import { identifierHash, piiStorer } from './pii.ts';
import { clickRows, profileRows, purchaseRows, type RowOptions } from './rows.ts';

const KEY = 'test-key-0123456789';
const NOW = Date.UTC(2026, 5, 1);
const opts = (pii: 'hash' | 'plain' = 'hash'): RowOptions => ({
  storePii: piiStorer(pii, KEY),
  defaultRegion: 'GB',
  blocklist: new Set(),
  now: NOW,
  maxFutureMs: 86_400_000,
});

const click = (over: Partial<ClickEvent> = {}): ClickEvent =>
  clickEvent({
    event_id: 'c1',
    occurred_at: NOW - 1000,
    anonymous_id: ' anon-1 ',
    email: ' Ann@Example.COM ',
    phone: '07700 900123',
    page: { url: 'https://shop/x', referrer: null, title: 'X' },
    device: { type: 'mobile', os: 'iOS', browser: null },
    country: 'GB',
    locale: 'en-GB',
    ...over,
  });

const purchase = (over: Partial<Purchase> = {}): Purchase => ({
  event_id: 'p1',
  occurred_at: NOW - 1000,
  anonymous_id: null,
  user_id: 'u-1',
  email: null,
  phone: null,
  order_id: 'o1',
  status: 'refunded',
  channel: 'web',
  currency: 'GBP',
  total_minor: 500,
  items: [{ sku: 'a', category: 'shoes', quantity: 2, unit_price_minor: 250 }],
  account: null,
  ...over,
});

test('identifiers are normalised; e-mail and phone stored as the keyed hash; customer key by priority', () => {
  const [row] = clickRows(click(), opts()).clickstream_events!;
  assert.equal(row!.anonymous_id, 'anon-1');
  assert.equal(row!.email, identifierHash(KEY, 'email', 'ann@example.com'));
  assert.equal(row!.phone, identifierHash(KEY, 'phone', '+447700900123'));
  assert.equal(row!.customer_key, row!.email, 'no user id: the e-mail (as stored) is the customer key');
  assert.equal(row!.device_type, 'mobile');
  const [plain] = clickRows(click(), opts('plain')).clickstream_events!;
  assert.equal(plain!.email, 'ann@example.com');
  assert.equal(plain!.phone, '+447700900123');
});

test('purchases: signed totals and order lines (refunds and cancellations count negative)', () => {
  const t = purchaseRows(purchase(), opts());
  assert.equal(t.purchases![0]!.signed_total_minor, -500);
  assert.deepEqual(
    t.purchase_items!.map((r) => [r.line, r.category, r.signed_amount_minor, r.customer_key]),
    [[0, 'shoes', -500, 'u-1']],
  );
  assert.equal(purchaseRows(purchase({ status: 'completed' }), opts()).purchases![0]!.signed_total_minor, 500);
});

test('values ClickHouse would refuse or that make no sense are DLQ codes, before any batch', () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      return (err as { code: string }).code;
    }
    return 'accepted';
  };
  assert.equal(
    code(() => clickRows(click({ occurred_at: Date.UTC(2200, 0, 1) }), { ...opts(), maxFutureMs: Number.MAX_SAFE_INTEGER })),
    'timestamp_out_of_range',
  );
  assert.equal(
    code(() => clickRows(click({ occurred_at: -5 }), opts())),
    'timestamp_out_of_range',
  );
  assert.equal(
    code(() => clickRows(click({ occurred_at: Number.NaN }), opts())),
    'timestamp_out_of_range',
  );
  assert.equal(
    code(() => clickRows(click({ page: { url: 'x'.repeat(20_000), referrer: null, title: null } }), opts())),
    'value_too_long',
  );
  assert.equal(
    code(() => clickRows(click({ event_id: 'e'.repeat(600) }), opts())),
    'value_too_long',
  );
  assert.equal(
    code(() => clickRows(click({ anonymous_id: 'null', email: 'unknown', phone: null }), opts())),
    'no_identifier',
  );
  assert.equal(
    code(() => clickRows(click({ occurred_at: NOW + 10 * 86_400_000 }), opts())),
    'future_timestamp',
  );
  assert.equal(
    code(() => purchaseRows(purchase({ items: [{ sku: 'a', category: null, quantity: 2 ** 40, unit_price_minor: 1 }] }), opts())),
    'value_out_of_range',
  );
  assert.equal(
    code(() => purchaseRows(purchase({ items: [{ sku: 'a', category: null, quantity: 1_000_000, unit_price_minor: 2 ** 50 }] }), opts())),
    'value_out_of_range',
  );
  assert.equal(
    code(() => purchaseRows(purchase({ total_minor: -1 }), opts())),
    'negative_amount',
  );
  assert.equal(
    code(() => purchaseRows(purchase({ currency: 'XXQ' }), opts())),
    'invalid_currency',
  );
  assert.equal(
    code(() => purchaseRows(purchase(), opts())),
    'accepted',
  );
});

test('profile snapshots: fields from the profile view, e-mail and phone hashed, erased (null) snapshots skipped', () => {
  const change: ProfileChanged = {
    event_id: 'P1:v3',
    profile_id: 'P1',
    profile_version: 3,
    cause: 'event',
    trigger_event_id: 'x',
    source_topic: 'purchases',
    changed_sections: ['transactions'],
    occurred_at: NOW - 5000,
    emitted_at: NOW,
    profile_json: JSON.stringify({
      profile_id: 'P1',
      merged_ids: ['P0'],
      identity: { user_ids: ['u-1'], emails: ['ann@example.com'], phones: [], anonymous_ids: ['a1'] },
      activity: { first_seen_at: '2026-05-01T00:00:00.000Z', last_seen_at: '2026-05-31T00:00:00.000Z' },
      transactions: { orders_count: 2, revenue_minor: { GBP: 900 }, first_purchase_at: null, last_purchase_at: '2026-05-30T00:00:00.000Z' },
      support: { open_tickets: 1, tickets_count: 2, last_csat: 4 },
      consent: { email: { granted: true, at: '2026-05-01T00:00:00.000Z' } },
      freshness: { contact_confirmed_at: '2026-05-30T00:00:00.000Z', email: { 'ann@example.com': '2026-05-30T00:00:00.000Z' } },
    }),
  };
  const [row] = profileRows(change, opts())!.profiles!;
  assert.deepEqual(
    { ...row },
    {
      profile_id: 'P1',
      version: 3,
      event_id: 'P1:v3',
      updated_at: NOW - 5000,
      cause: 'event',
      merged_ids: ['P0'],
      user_ids: ['u-1'],
      anonymous_ids: ['a1'],
      emails: [identifierHash(KEY, 'email', 'ann@example.com')],
      phones: [],
      first_seen_at: Date.UTC(2026, 4, 1),
      last_seen_at: Date.UTC(2026, 4, 31),
      orders_count: 2,
      revenue_minor: { GBP: 900 },
      first_purchase_at: null,
      last_purchase_at: Date.UTC(2026, 4, 30),
      tickets_count: 2,
      open_tickets: 1,
      last_csat: 4,
      consent: { email: true },
      contact_confirmed_at: Date.UTC(2026, 4, 30),
    },
  );
  assert.equal(profileRows({ ...change, profile_json: null }, opts()), null);
});
