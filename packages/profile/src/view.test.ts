import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import type { Purchase, SupportTicket } from '@profile-stream/contracts';
import { clickEvent } from '@profile-stream/contracts/testing';
import { foldEvents } from './fold.ts';
import type { FoldInput } from './fold.ts';
import { normaliseIdentifiers } from './normalise.ts';
import { profileView, purchaseTimeline, ticketOpenTimes } from './view.ts';
import type { JsonValue } from './view.ts';

const T = Date.UTC(2025, 0, 10);
const H = 3600_000;
const GB = { defaultRegion: 'GB', blocklist: new Set<string>() };
const who = { anonymous_id: null, user_id: 'u_1', email: 'alice@example.com', phone: null, account: null };
let n = 0;
function purchase(order_id: string, status: Purchase['status'], total_minor: number, currency: string, at: number): FoldInput {
  const event: Purchase = { ...who, event_id: `p${n++}`, occurred_at: at, order_id, status, channel: 'web', currency, total_minor, items: [] };
  return { topic: 'purchases', event, ids: normaliseIdentifiers(event, GB) };
}
function ticket(ticket_id: string, status: SupportTicket['status'], at: number, satisfaction: number | null = null): FoldInput {
  const event: SupportTicket = {
    ...who,
    event_id: `t${n++}`,
    occurred_at: at,
    ticket_id,
    status,
    channel: 'chat',
    priority: 'high',
    category: null,
    subject: null,
    satisfaction,
  };
  return { topic: 'support-tickets', event, ids: normaliseIdentifiers(event, GB) };
}
const get = (v: JsonValue, ...path: string[]): JsonValue => path.reduce<JsonValue>((o, k) => (o as { [k: string]: JsonValue })[k]!, v);

describe('profileView', () => {
  const events = [
    purchase('A', 'completed', 1000, 'GBP', T),
    purchase('B', 'completed', 500, 'GBP', T + H),
    purchase('A', 'refunded', 200, 'GBP', T + 2 * H),
    purchase('B', 'cancelled', 500, 'GBP', T + 3 * H),
    purchase('C', 'completed', 300, 'EUR', T + 4 * H),
    purchase('D', 'completed', 700, 'GBP', T + 5 * H),
    ticket('t1', 'opened', T),
    ticket('t1', 'resolved', T + H, 4),
    ticket('t2', 'opened', T + 2 * H),
    ticket('t2', 'updated', T + 3 * H, 5),
    ticket('t3', 'opened', T + 4 * H),
    ticket('t3', 'closed', T + 5 * H),
  ];
  const view = profileView(foldEvents(events), { profile_id: 'p_1', merged_ids: ['p_9', 'p_2'] });

  it('counts distinct completed, not cancelled orders and nets refunds and cancellations out of revenue', () => {
    assert.deepEqual(get(view, 'transactions'), {
      average_order_value_minor: { EUR: 300, GBP: 750 },
      cancellations_count: 1,
      channels: ['web'],
      first_purchase_at: new Date(T).toISOString(),
      last_purchase_at: new Date(T + 5 * H).toISOString(),
      orders_count: 3,
      purchases: [
        { at: new Date(T).toISOString(), currency: 'GBP', order_id: 'A', refunded_minor: 200, total_minor: 1000 },
        { at: new Date(T + 4 * H).toISOString(), currency: 'EUR', order_id: 'C', refunded_minor: 0, total_minor: 300 },
        { at: new Date(T + 5 * H).toISOString(), currency: 'GBP', order_id: 'D', refunded_minor: 0, total_minor: 700 },
      ],
      refunds_count: 1,
      revenue_minor: { EUR: 300, GBP: 1500 },
    });
  });

  it('support: open tickets by latest status, CSAT last and average, last contact channel', () => {
    assert.deepEqual(get(view, 'support'), {
      average_csat: 4.5,
      last_contact_channel: 'chat',
      last_csat: 5,
      open_tickets: 1,
      open_urgent_tickets: 0,
      tickets_count: 3,
    });
  });

  it('keeps the stable names, ISO times, sorted arrays and sorted keys', () => {
    assert.equal(get(view, 'profile_id'), 'p_1');
    assert.deepEqual(get(view, 'merged_ids'), ['p_2', 'p_9']);
    assert.deepEqual(get(view, 'identity'), { anonymous_ids: [], emails: ['alice@example.com'], phones: [], user_ids: ['u_1'] });
    assert.equal(get(view, 'activity', 'first_seen_at'), new Date(T).toISOString());
    assert.equal(get(view, 'activity', 'last_seen_at'), new Date(T + 5 * H).toISOString());
    const keysSorted = (v: JsonValue): void => {
      if (Array.isArray(v)) {
        v.forEach(keysSorted);
        return;
      }
      if (v === null || typeof v !== 'object') return;
      const keys = Object.keys(v);
      assert.deepEqual(keys, [...keys].sort());
      Object.values(v).forEach(keysSorted);
    };
    keysSorted(view);
  });

  it('an empty profile has the same shape with nulls, zeros and empty collections', () => {
    const empty = profileView({}, { profile_id: 'p_0', merged_ids: [] });
    assert.deepEqual(Object.keys(empty as object), Object.keys(view as object));
    assert.equal(get(empty, 'transactions', 'orders_count'), 0);
    assert.equal(get(empty, 'activity', 'first_seen_at'), null);
    assert.deepEqual(get(empty, 'consent'), {});
  });

  it('consent per purpose: the latest decision with its time and source', () => {
    const consent = (granted: boolean, at: number, url: string | null): FoldInput => {
      const event = clickEvent({
        ...who,
        event_id: `c${n++}`,
        occurred_at: at,
        type: 'consent_updated',
        page: url === null ? null : { url, referrer: null, title: null },
        consent: { purpose: 'email', granted },
      });
      return { topic: 'clickstream', event, ids: normaliseIdentifiers(event, GB) };
    };
    const doc = foldEvents([consent(false, T + 2 * H, null), consent(true, T, 'https://shop.test/signup')]);
    assert.deepEqual(get(profileView(doc, { profile_id: 'p', merged_ids: [] }), 'consent'), {
      email: { at: new Date(T + 2 * H).toISOString(), granted: false, source: 'clickstream' },
    });
  });

  it('purchaseTimeline and ticketOpenTimes for windowed segment conditions', () => {
    const doc = foldEvents(events);
    assert.deepEqual(
      purchaseTimeline(doc).map((p) => p.order_id),
      ['A', 'C', 'D'],
    );
    assert.deepEqual(ticketOpenTimes(doc), [T, T + 2 * H, T + 4 * H]);
  });
});
