import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { ContractError } from './errors.ts';
import { ClickEventSchema, PurchaseSchema, SegmentMembershipChangedSchema } from './generated/index.ts';
import type { ClickEvent, Purchase } from './generated/index.ts';
import { fromPlainJson, parseTimestamp, toPlainJson } from './json.ts';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

function invalid(path: string, message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ContractError, `expected ContractError, got ${String(err)}`);
    assert.equal(err.code, 'invalid_event');
    assert.equal(err.path, path);
    assert.match(err.message, message);
    assert.equal(err.retriable, false);
    return true;
  };
}

describe('fromPlainJson', () => {
  it('fills missing nullable fields with null and missing defaults with the default', () => {
    const value = fromPlainJson<Purchase>(PurchaseSchema, {
      event_id: 'e1',
      occurred_at: T0,
      email: 'a@example.com',
      order_id: 'o1',
      status: 'completed',
      channel: 'web',
      currency: 'EUR',
      total_minor: 1999,
    });
    assert.deepEqual(value, {
      event_id: 'e1',
      occurred_at: T0,
      anonymous_id: null,
      user_id: null,
      email: 'a@example.com',
      phone: null,
      order_id: 'o1',
      status: 'completed',
      channel: 'web',
      currency: 'EUR',
      total_minor: 1999,
      items: [],
      account: null,
    });
  });

  it('accepts ISO-8601 strings (any offset) and epoch ms for timestamps', () => {
    const base = { event_id: 'e', user_id: 'u', type: 'login' };
    assert.equal(fromPlainJson<ClickEvent>(ClickEventSchema, { ...base, occurred_at: '2024-05-01T12:00:00Z' }).occurred_at, T0);
    assert.equal(fromPlainJson<ClickEvent>(ClickEventSchema, { ...base, occurred_at: '2024-05-01T14:00:00.000+02:00' }).occurred_at, T0);
    assert.equal(fromPlainJson<ClickEvent>(ClickEventSchema, { ...base, occurred_at: T0 }).occurred_at, T0);
  });

  it('converts nested nullable records, arrays and maps', () => {
    const click = fromPlainJson<ClickEvent>(ClickEventSchema, {
      event_id: 'e',
      occurred_at: T0,
      anonymous_id: 'a',
      type: 'product_view',
      page: { url: 'https://shop.example/p/1' },
      product: { sku: 'SKU-1', price_minor: 500, currency: 'EUR' },
      utm: null,
    });
    assert.deepEqual(click.page, { url: 'https://shop.example/p/1', referrer: null, title: null });
    assert.deepEqual(click.product, { sku: 'SKU-1', category: null, price_minor: 500, currency: 'EUR' });
    assert.equal(click.utm, null);
    const membership = fromPlainJson(SegmentMembershipChangedSchema, {
      event_id: 'm',
      profile_id: 'p',
      segment_id: 's',
      segment_version: 1,
      change: 'entered',
      reason: 'rule_matched',
      membership_version: 3,
      occurred_at: T0,
      emitted_at: '2024-05-01T12:00:01Z',
      traits: { tier: 'gold' },
    });
    assert.deepEqual(membership.traits, { tier: 'gold' });
    assert.equal(membership.trigger_event_id, null);
  });

  it('rejects a wrong enum symbol naming the path', () => {
    const input = { event_id: 'e', occurred_at: T0, user_id: 'u', type: 'login', device: { type: 'phone' } };
    assert.throws(() => fromPlainJson(ClickEventSchema, input), invalid('device.type', /expected one of desktop\|mobile\|tablet\|other, got "phone"/));
  });

  it('rejects a missing required field', () => {
    assert.throws(() => fromPlainJson(ClickEventSchema, { event_id: 'e', occurred_at: T0 }), invalid('type', /missing required field/));
    assert.throws(
      () => fromPlainJson(ClickEventSchema, { event_id: 'e', occurred_at: T0, type: 'search', page: { title: 't' } }),
      invalid('page.url', /missing required field/),
    );
  });

  it('rejects unknown fields, also nested ones', () => {
    assert.throws(() => fromPlainJson(ClickEventSchema, { event_id: 'e', occurred_at: T0, type: 'login', userId: 'u' }), invalid('userId', /unknown field/));
    assert.throws(
      () => fromPlainJson(ClickEventSchema, { event_id: 'e', occurred_at: T0, type: 'login', utm: { source: 'x', term: 'y' } }),
      invalid('utm.term', /unknown field/),
    );
  });

  it('rejects wrong types with array indexes in the path', () => {
    const purchase = {
      event_id: 'e',
      occurred_at: T0,
      user_id: 'u',
      order_id: 'o',
      status: 'completed',
      channel: 'web',
      currency: 'EUR',
      total_minor: 10,
      items: [
        { sku: 'a', quantity: 1, unit_price_minor: 10 },
        { sku: 'b', quantity: 1.5, unit_price_minor: 10 },
      ],
    };
    assert.throws(() => fromPlainJson(PurchaseSchema, purchase), invalid('items.1.quantity', /expected an int/));
    assert.throws(() => fromPlainJson(PurchaseSchema, { ...purchase, items: [], total_minor: '10' }), invalid('total_minor', /expected a long/));
    assert.throws(() => fromPlainJson(PurchaseSchema, { ...purchase, items: [], email: 42 }), invalid('email', /got 42/));
    assert.throws(() => fromPlainJson(PurchaseSchema, { ...purchase, items: 'none' }), invalid('items', /expected an array/));
  });

  it('rejects Avro union wrappers: nullable fields are the plain value', () => {
    assert.throws(
      () => fromPlainJson(ClickEventSchema, { event_id: 'e', occurred_at: T0, type: 'login', user_id: { string: 'u' } }),
      invalid('user_id', /expected string or null, got \{"string":"u"\}/),
    );
  });

  it('rejects bad timestamps and non-object input', () => {
    const base = { event_id: 'e', user_id: 'u', type: 'login' };
    assert.throws(() => fromPlainJson(ClickEventSchema, { ...base, occurred_at: 'yesterday' }), invalid('occurred_at', /ISO-8601/));
    assert.throws(() => fromPlainJson(ClickEventSchema, { ...base, occurred_at: '2024-13-45T00:00:00Z' }), invalid('occurred_at', /ISO-8601/));
    assert.throws(() => fromPlainJson(ClickEventSchema, { ...base, occurred_at: 1.5 }), invalid('occurred_at', /ISO-8601/));
    assert.throws(() => fromPlainJson(ClickEventSchema, [1, 2]), invalid('', /expected an object/));
  });

  it('lists every problem in issues', () => {
    try {
      fromPlainJson(ClickEventSchema, { event_id: 1, occurred_at: T0, type: 'nope', extra: true });
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(err instanceof ContractError);
      assert.deepEqual(
        err.issues.map((i) => i.path),
        ['extra'],
      ); // structural problems first, then leaf types
    }
    try {
      fromPlainJson(ClickEventSchema, { event_id: 1, occurred_at: T0, type: 'nope' });
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(err instanceof ContractError);
      assert.deepEqual(
        err.issues.map((i) => i.path),
        ['event_id', 'type'],
      );
      assert.match(err.message, /and 1 more/);
    }
  });
});

describe('toPlainJson', () => {
  it('writes times as ISO-8601 UTC and keeps nullable values unwrapped', () => {
    const value = fromPlainJson(ClickEventSchema, { event_id: 'e', occurred_at: T0, user_id: 'u', type: 'login', device: { type: 'mobile' } });
    const json = toPlainJson(ClickEventSchema, value) as Record<string, unknown>;
    assert.equal(json.occurred_at, '2024-05-01T12:00:00.000Z');
    assert.deepEqual(json.device, { type: 'mobile', os: null, browser: null });
    assert.equal(json.page, null);
  });

  it('round-trips through Avro bytes and back to input', () => {
    const input = {
      event_id: 'e',
      occurred_at: '2024-05-01T12:00:00.000Z',
      anonymous_id: null,
      user_id: 'u',
      email: null,
      phone: null,
      order_id: 'o',
      status: 'refunded',
      channel: 'store',
      currency: 'EUR',
      total_minor: 500,
      items: [{ sku: 'a', category: null, quantity: 2, unit_price_minor: 250 }],
      account: { account_id: 'acct-1', name: 'Acme Ltd', domain: null },
    };
    assert.deepEqual(toPlainJson(PurchaseSchema, fromPlainJson(PurchaseSchema, input)), input);
    assert.deepEqual(toPlainJson(PurchaseSchema, fromPlainJson(PurchaseSchema, input), { times: 'millis' }), { ...input, occurred_at: T0 });
  });
});

describe('parseTimestamp', () => {
  it('parses ISO-8601 and epoch ms, rejects the rest', () => {
    assert.equal(parseTimestamp('2024-05-01'), Date.UTC(2024, 4, 1));
    assert.equal(parseTimestamp(new Date(T0)), T0);
    assert.equal(parseTimestamp('1714564800000'), undefined);
    assert.equal(parseTimestamp('May 1, 2024'), undefined);
    assert.equal(parseTimestamp(null), undefined);
  });
});
