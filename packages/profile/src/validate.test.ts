import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import type { ClickEvent, Purchase, SupportTicket } from '@profile-stream/contracts';
import { clickEvent } from '@profile-stream/contracts/testing';
import { ProfileError } from './errors.ts';
import type { ProfileErrorCode } from './errors.ts';
import { ISO_4217_CODES, isIsoCurrency } from './iso4217.ts';
import { normaliseIdentifiers } from './normalise.ts';
import { requireIdentifier, validateEvent } from './validate.ts';

const NOW = Date.UTC(2025, 0, 1);
const base = { event_id: 'e1', occurred_at: NOW - 1000, anonymous_id: 'a1', user_id: null, email: null, phone: null, account: null };
const purchase = (over: Partial<Purchase> = {}): Purchase => ({
  ...base,
  order_id: 'o1',
  status: 'completed',
  channel: 'web',
  currency: 'GBP',
  total_minor: 1500,
  items: [{ sku: 's1', category: null, quantity: 2, unit_price_minor: 1000 }],
  ...over,
});
const click = (over: Partial<ClickEvent> = {}): ClickEvent =>
  clickEvent({ ...base, type: 'product_view', product: { sku: 's1', category: 'shoes', price_minor: 999, currency: 'EUR' }, ...over });
const ticket = (over: Partial<SupportTicket> = {}): SupportTicket => ({
  ...base,
  ticket_id: 't1',
  status: 'opened',
  channel: 'chat',
  priority: 'normal',
  category: null,
  subject: null,
  satisfaction: null,
  ...over,
});

function rejects(fn: () => void, code: ProfileErrorCode, path: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ProfileError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.path, path);
    assert.equal(err.retriable, false);
    return true;
  });
}

describe('validateEvent', () => {
  const opts = { now: NOW };

  it('accepts valid events of the three topics, and a completed total that differs from its lines (discounts)', () => {
    validateEvent('purchases', purchase(), opts);
    validateEvent('purchases', purchase({ status: 'refunded', total_minor: 500, items: [] }), opts);
    validateEvent('clickstream', click(), opts);
    validateEvent('support-tickets', ticket({ satisfaction: 5 }), opts);
  });

  it('negative_amount: totals, unit prices and product prices', () => {
    rejects(() => validateEvent('purchases', purchase({ total_minor: -1 }), opts), 'negative_amount', 'total_minor');
    rejects(
      () => validateEvent('purchases', purchase({ items: [{ sku: 's', category: null, quantity: 1, unit_price_minor: -5 }] }), opts),
      'negative_amount',
      'items.0.unit_price_minor',
    );
    rejects(
      () => validateEvent('clickstream', click({ product: { sku: 's', category: null, price_minor: -1, currency: null } }), opts),
      'negative_amount',
      'product.price_minor',
    );
  });

  it('negative_quantity', () => {
    const items = [
      { sku: 's', category: null, quantity: 1, unit_price_minor: 1 },
      { sku: 't', category: null, quantity: -2, unit_price_minor: 1 },
    ];
    rejects(() => validateEvent('purchases', purchase({ items }), opts), 'negative_quantity', 'items.1.quantity');
  });

  it('invalid_currency: lower case, wrong length, or not in ISO 4217', () => {
    for (const c of ['gbp', 'GB', 'GBPX', 'ABC', 'XXX', ''])
      rejects(() => validateEvent('purchases', purchase({ currency: c }), opts), 'invalid_currency', 'currency');
    rejects(
      () => validateEvent('clickstream', click({ product: { sku: 's', category: null, price_minor: 1, currency: 'EURO' } }), opts),
      'invalid_currency',
      'product.currency',
    );
    assert.ok(isIsoCurrency('JPY') && isIsoCurrency('CHF') && isIsoCurrency('XCG'));
    assert.ok(ISO_4217_CODES.size > 170);
  });

  it('future_timestamp beyond maxFutureMs (default 24 h); invalid_timestamp for non-epoch values', () => {
    validateEvent('clickstream', click({ occurred_at: NOW + 24 * 3600_000 }), opts);
    rejects(() => validateEvent('clickstream', click({ occurred_at: NOW + 24 * 3600_000 + 1 }), opts), 'future_timestamp', 'occurred_at');
    rejects(() => validateEvent('clickstream', click({ occurred_at: NOW + 61_000 }), { now: NOW, maxFutureMs: 60_000 }), 'future_timestamp', 'occurred_at');
    rejects(() => validateEvent('clickstream', click({ occurred_at: -1 }), opts), 'invalid_timestamp', 'occurred_at');
    rejects(() => validateEvent('clickstream', click({ occurred_at: 1.5 }), opts), 'invalid_timestamp', 'occurred_at');
  });

  it('invalid_satisfaction outside 1–5', () => {
    for (const s of [0, 6, -1, 2.5]) rejects(() => validateEvent('support-tickets', ticket({ satisfaction: s }), opts), 'invalid_satisfaction', 'satisfaction');
  });
});

describe('requireIdentifier', () => {
  const GB = { defaultRegion: 'GB', blocklist: new Set<string>() };

  it('no_identifier when every identifier was junk, blank or invalid', () => {
    const ids = normaliseIdentifiers({ anonymous_id: 'null', user_id: ' ', email: 'nope', phone: '12' }, GB);
    assert.throws(
      () => requireIdentifier(ids),
      (err: unknown) => {
        assert.ok(err instanceof ProfileError);
        assert.equal(err.code, 'no_identifier');
        assert.match(err.message, /user_id: empty, email: invalid_email, phone: invalid_phone, anonymous_id: junk/);
        return true;
      },
    );
  });

  it('passes with one usable identifier', () => {
    requireIdentifier(normaliseIdentifiers({ anonymous_id: 'null', user_id: null, email: 'A@B.co', phone: null }, GB));
  });
});
