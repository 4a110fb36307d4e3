import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { clickEvent } from '@profile-stream/contracts/testing';
import { compactDoc } from './doc.ts';
import type { ProfileDoc } from './doc.ts';
import { hourOfWeek } from './engagement.ts';
import { eventFragment, foldEvents } from './fold.ts';
import type { FoldInput } from './fold.ts';
import { join } from './join.ts';
import { normaliseIdentifiers } from './normalise.ts';
import { eventsArb, streamArb } from './testing/arbitraries.ts';

/** What the store does: apply each event's fragment once per event_id, in arrival order. */
function applyStream(stream: readonly FoldInput[], start: ProfileDoc = {}, seen = new Set<string>()): ProfileDoc {
  let doc = start;
  for (const e of stream) {
    if (seen.has(e.event.event_id)) continue;
    seen.add(e.event.event_id);
    doc = join(doc, eventFragment(e.topic, e.event, e.ids));
  }
  return doc;
}

describe('the fold against the oracle (fast-check)', () => {
  it('any arrival order with duplicates gives the oracle profile', () => {
    fc.assert(
      fc.property(streamArb(40), ([events, stream]) => {
        assert.deepEqual(applyStream(stream), foldEvents(events));
        assert.deepEqual(foldEvents(stream), foldEvents(events));
      }),
      { numRuns: 500 },
    );
  });

  it('merging two profiles (any split of the events) is the same join', () => {
    fc.assert(
      fc.property(eventsArb(40), fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), (events, side) => {
        const a = events.filter((_, i) => side[i]);
        const b = events.filter((_, i) => !side[i]);
        assert.deepEqual(join(foldEvents(a), foldEvents(b)), foldEvents(events));
      }),
      { numRuns: 300 },
    );
  });

  it('a replay of the whole stream changes nothing', () => {
    fc.assert(
      fc.property(streamArb(30), ([events, stream]) => {
        const seen = new Set<string>();
        const once = applyStream(events, {}, seen);
        assert.deepEqual(applyStream(stream, once, seen), once);
      }),
      { numRuns: 200 },
    );
  });

  it('fragments are deterministic and canonical', () => {
    fc.assert(
      fc.property(eventsArb(10), (events) => {
        for (const e of events) {
          const f = eventFragment(e.topic, e.event, e.ids);
          assert.deepEqual(eventFragment(e.topic, structuredClone(e.event), structuredClone(e.ids)), f);
          assert.deepEqual(compactDoc(f), f);
          assert.equal(f.hw, e.event.occurred_at);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('eventFragment', () => {
  const T = Date.UTC(2025, 2, 1, 12);
  const GB = { defaultRegion: 'GB', blocklist: new Set<string>() };
  const idf = { anonymous_id: 'a1', user_id: null, email: ' Alice@Example.com', phone: '07700 900123', account: null };

  it('a click contributes identity, freshness, first touch, device, cart and consent', () => {
    const event = clickEvent({
      ...idf,
      event_id: 'e1',
      occurred_at: T,
      type: 'add_to_cart',
      page: { url: 'https://shop.test/p/1', referrer: 'https://google.com/', title: null },
      device: { type: 'mobile', os: 'iOS', browser: null },
      country: 'gb',
      locale: 'en-GB',
      product: { sku: 'S1', category: 'shoes', price_minor: 100, currency: 'GBP' },
    });
    const f = eventFragment('clickstream', event, normaliseIdentifiers(event, GB));
    const c = <V>(v: V) => ({ v, t: T, id: 'e1' });
    assert.deepEqual(f, {
      hw: T,
      identity: { emails: { 'alice@example.com': T }, phones: { '+447700900123': T }, anonymous_ids: { a1: T } },
      freshness: { email: { 'alice@example.com': T }, phone: { '+447700900123': T } },
      acquisition: { first_touch: c({ channel: 'referral', referrer: 'https://google.com/', landing_page: 'https://shop.test/p/1' }) },
      demographic: { country: c('GB'), locale: c('en-GB') },
      technology: { devices: { 'mobile/iOS/': T }, device_types: { mobile: T }, last_device: c({ type: 'mobile', os: 'iOS' }) },
      activity: {
        first_seen_at: T,
        last_seen_at: T,
        events: { add_to_cart: 1 },
        categories: { shoes: T },
        cart: { last_add_to_cart_at: T, items: { S1: c(true) } },
      },
      engagement: { channels: { web: 1 }, hours: { [String(hourOfWeek(T))]: 1 } },
    });
  });

  it('a completed purchase takes its items out of the cart; a refund subtracts revenue', () => {
    const p = {
      ...idf,
      event_id: 'p1',
      occurred_at: T,
      order_id: 'o1',
      status: 'completed' as const,
      channel: 'web' as const,
      currency: 'GBP',
      total_minor: 2500,
      items: [{ sku: 'S1', category: 'shoes', quantity: 1, unit_price_minor: 2500 }],
    };
    const f = eventFragment('purchases', p, normaliseIdentifiers(p, GB));
    assert.deepEqual(f.activity?.cart, { items: { S1: { v: false, t: T, id: 'p1' } } });
    assert.deepEqual(f.transactions?.revenue_minor, { GBP: 2500 });
    const r = { ...p, event_id: 'p2', status: 'refunded' as const, total_minor: 500 };
    const fr = eventFragment('purchases', r, normaliseIdentifiers(r, GB));
    assert.deepEqual(fr.transactions, {
      orders: { o1: { currency: { v: 'GBP', t: T, id: 'p2' }, channel: { v: 'web', t: T, id: 'p2' }, last_event_at: T, refunded_minor: 500 } },
      revenue_minor: { GBP: -500 },
      refunds_count: 1,
      channels: { web: T },
    });
  });
});
