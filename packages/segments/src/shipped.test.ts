// Timeline tests of every shipped segment (segments/*.yaml) on a fake clock, on real folded profiles.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, it } from 'vitest';
import type { SegmentDefinition } from './definition.ts';
import { loadDefinitions } from './load.ts';
import { D, H, T0, click, consent, purchase, ticket } from './testing/events.ts';
import { runTimeline } from './testing/timeline.ts';

const DIR = fileURLToPath(new URL('../../../segments', import.meta.url));
const SHIPPED = [
  'at-risk',
  'browser-not-buyer',
  'cart-abandoner',
  'dormant',
  'email-reachable',
  'first-time-buyer',
  'high-clv',
  'high-value',
  'lapsed-member',
  'likely-to-churn',
  'loyal',
  'loyalty-bronze',
  'loyalty-gold',
  'loyalty-platinum',
  'loyalty-silver',
  'occasional',
  'points-expiring',
  'rfm-at-risk',
  'rfm-champions',
  'rfm-hibernating',
  'rfm-lost',
  'rfm-loyal',
  'stale-contact',
  'unhappy-customer',
];
const RFM = ['rfm-champions', 'rfm-loyal', 'rfm-at-risk', 'rfm-hibernating', 'rfm-lost'];

describe('shipped segments', () => {
  let defs: SegmentDefinition[] = [];
  beforeAll(async () => {
    defs = await loadDefinitions(DIR);
  });

  it('loads exactly the shipped ids, sorted', () => {
    assert.deepEqual(
      defs.map((d) => d.id),
      SHIPPED,
    );
  });

  it('first-time-buyer, occasional, dormant: exits by time at the exact instant, late events, duplicates, cancellations', () => {
    const first = purchase(T0, 'o1');
    runTimeline(
      defs,
      ['first-time-buyer', 'occasional', 'dormant'],
      [
        { at: T0 - D, members: [], next: { dormant: null } },
        {
          at: T0,
          events: [first],
          members: ['first-time-buyer', 'occasional'],
          next: { dormant: T0 + 180 * D, occasional: T0 + 365 * D, 'first-time-buyer': null },
        },
        { at: T0 + 180 * D - 1, members: ['first-time-buyer', 'occasional'] },
        { at: T0 + 180 * D, members: ['first-time-buyer', 'occasional', 'dormant'], next: { occasional: T0 + 365 * D, dormant: null } },
        { at: T0 + 365 * D, members: ['first-time-buyer', 'dormant'] },
        { at: T0 + 400 * D, events: [purchase(T0 + 400 * D, 'o2')], members: ['occasional'], next: { dormant: T0 + 580 * D } },
        { at: T0 + 401 * D, events: [purchase(T0 + 10 * D, 'o3')], members: ['occasional'], note: 'late event outside the window' },
        { at: T0 + 401 * D, events: [first], members: ['occasional'], note: 'duplicate changes nothing' },
        {
          at: T0 + 402 * D,
          events: [purchase(T0 + 402 * D, 'o2', { status: 'cancelled' })],
          members: ['dormant'],
          next: { dormant: null },
          note: 'o2 cancelled',
        },
      ],
    );
  });

  it('loyal, occasional, at-risk: orders leave the 365 d window one by one; at-risk 90 d after a loyal streak', () => {
    const buys = [0, 30, 60, 90].map((d, i) => purchase(T0 + d * D, `o${i}`));
    runTimeline(
      defs,
      ['loyal', 'occasional', 'at-risk'],
      [
        { at: T0 + 90 * D, events: buys.slice(0, 3), members: ['occasional'], note: 'three orders' },
        { at: T0 + 90 * D, events: buys.slice(3), members: ['loyal'], next: { loyal: T0 + 365 * D, 'at-risk': T0 + 180 * D, occasional: T0 + 365 * D } },
        { at: T0 + 180 * D, members: ['loyal', 'at-risk'] },
        { at: T0 + 365 * D, members: ['occasional', 'at-risk'], next: { occasional: T0 + 455 * D } },
        { at: T0 + 455 * D, members: ['at-risk'], next: { 'at-risk': null } },
        { at: T0 + 500 * D, events: [purchase(T0 + 500 * D, 'o9')], members: ['occasional'], note: 'a new order ends at-risk' },
      ],
    );
  });

  it('high-value: net revenue over the currency threshold in 365 d, refunds count, per currency', () => {
    runTimeline(
      defs,
      ['high-value'],
      [
        { at: T0, events: [purchase(T0, 'a', { total: 30_000 })], members: [] },
        { at: T0 + 100 * D, events: [purchase(T0 + 100 * D, 'b', { total: 25_000 })], members: ['high-value'], next: { 'high-value': T0 + 365 * D } },
        { at: T0 + 101 * D, events: [purchase(T0 + 101 * D, 'a', { status: 'refunded', total: 10_000 })], members: [], next: { 'high-value': null } },
        {
          at: T0 + 102 * D,
          events: [purchase(T0 + 102 * D, 'c', { total: 60_000, currency: 'EUR' })],
          members: ['high-value'],
          next: { 'high-value': T0 + 467 * D },
        },
        { at: T0 + 467 * D, members: [] },
      ],
    );
  });

  it('high-value: the threshold is a parameter', async () => {
    const lowered = await loadDefinitions(DIR, { params: { 'high-value': { threshold_gbp_minor: 20_000 } } });
    runTimeline(lowered, ['high-value'], [{ at: T0, events: [purchase(T0, 'a', { total: 30_000 })], members: ['high-value'] }]);
  });

  it('cart-abandoner: cart activity after the last purchase, 1 h old, until a purchase', () => {
    runTimeline(
      defs,
      ['cart-abandoner'],
      [
        { at: T0, events: [click(T0, 'add_to_cart'), purchase(T0 + H, 'o1')], members: [], next: { 'cart-abandoner': null }, note: 'cart before a purchase' },
        { at: T0 + D, events: [click(T0 + D, 'add_to_cart')], members: [], next: { 'cart-abandoner': T0 + D + H } },
        { at: T0 + D + H, members: ['cart-abandoner'] },
        { at: T0 + D + 2 * H, events: [click(T0 + D + 2 * H, 'checkout_started')], members: [], next: { 'cart-abandoner': T0 + D + 3 * H } },
        { at: T0 + D + 3 * H, members: ['cart-abandoner'] },
        { at: T0 + D + 4 * H, events: [purchase(T0 + D + 4 * H, 'o2')], members: [], next: { 'cart-abandoner': null } },
      ],
    );
  });

  it('browser-not-buyer: five product views in the last 30 d, never bought; leaves as views age out', () => {
    const views = [0, 1, 2, 3, 4].map((i) => click(T0 + i * H, 'product_view'));
    runTimeline(
      defs,
      ['browser-not-buyer'],
      [
        { at: T0 + 4 * H, events: views.slice(0, 4), members: [] },
        {
          at: T0 + 4 * H,
          events: views.slice(4),
          members: ['browser-not-buyer'],
          next: { 'browser-not-buyer': T0 + 30 * D },
          note: 'the first view leaves the window',
        },
        {
          at: T0 + 10 * D,
          events: [click(T0 + 10 * D, 'product_view'), click(T0 + 10 * D, 'page_view')],
          members: ['browser-not-buyer'],
          next: { 'browser-not-buyer': T0 + H + 30 * D },
          note: 'a sixth view (page views do not count)',
        },
        { at: T0 + H + 30 * D, members: [] },
        { at: T0 + 40 * D, events: [click(T0 + 40 * D, 'page_view')], members: [], note: 'seen again, but only one view in 30 d' },
        { at: T0 + 41 * D, events: [0, 1, 2, 3, 4].map((i) => click(T0 + 41 * D + i, 'product_view')), members: ['browser-not-buyer'] },
        { at: T0 + 42 * D, events: [purchase(T0 + 42 * D, 'o1')], members: [] },
      ],
    );
  });

  it('unhappy-customer: an open urgent ticket or a low last CSAT', () => {
    runTimeline(
      defs,
      ['unhappy-customer'],
      [
        { at: T0 - H, events: [ticket(T0 - H, 't0', 'opened', null, 'high')], members: [], note: 'an open ticket that is not urgent' },
        { at: T0, events: [ticket(T0, 't1', 'opened')], members: ['unhappy-customer'], next: { 'unhappy-customer': null } },
        { at: T0 + H, events: [ticket(T0 + H, 't1', 'resolved', 4)], members: [] },
        { at: T0 + 2 * H, events: [ticket(T0 + 2 * H, 't2', 'opened'), ticket(T0 + 3 * H, 't2', 'closed', 2)], members: ['unhappy-customer'] },
        { at: T0 + 5 * H, events: [ticket(T0 + 4 * H, 't3', 'opened'), ticket(T0 + 5 * H, 't3', 'closed', 5)], members: [] },
      ],
    );
  });

  it('email-reachable: e-mail and e-mail consent; withdrawal and a late older grant', () => {
    runTimeline(
      defs,
      ['email-reachable'],
      [
        { at: T0, events: [click(T0, 'page_view')], members: [] },
        { at: T0 + H, events: [consent(T0 + H, 'sms', true)], members: [], note: 'sms consent is not e-mail consent' },
        { at: T0 + 2 * H, events: [consent(T0 + 2 * H, 'email', true)], members: ['email-reachable'], next: { 'email-reachable': null } },
        { at: T0 + D, events: [consent(T0 + D, 'email', false)], members: [], note: 'withdrawn' },
        { at: T0 + D + H, events: [consent(T0 + 3 * H, 'email', true)], members: [], note: 'late grant older than the withdrawal' },
        { at: T0 + 2 * D, events: [consent(T0 + 2 * D, 'email', true)], members: ['email-reachable'] },
      ],
    );
  });

  it('email-reachable: consent without an e-mail address is not enough', () => {
    runTimeline(
      defs,
      ['email-reachable'],
      [{ at: T0, events: [click(T0, 'consent_updated', { anonymous: true, consent: { purpose: 'email', granted: true } })], members: [] }],
    );
  });

  it('RFM: a champion moves to loyal, at-risk by recency alone, at the breakpoints', () => {
    const buys = Array.from({ length: 10 }, (_, i) => purchase(T0 + i * D, `o${i}`, { total: 10_000 }));
    const last = T0 + 9 * D;
    runTimeline(defs, RFM, [
      {
        at: last,
        events: buys,
        members: ['rfm-champions'],
        next: { 'rfm-champions': last + 90 * D, 'rfm-loyal': last + 90 * D, 'rfm-at-risk': last + 180 * D },
      },
      { at: last + 90 * D - 1, members: ['rfm-champions'] },
      { at: last + 90 * D, members: ['rfm-loyal'] },
      { at: last + 180 * D, members: ['rfm-at-risk'] },
      { at: last + 365 * D, members: ['rfm-at-risk'], next: { 'rfm-at-risk': null } },
    ]);
  });

  it('RFM: a one-order customer hibernates then is lost; three small orders are loyal, not champions', () => {
    runTimeline(defs, RFM, [
      { at: T0, events: [purchase(T0, 'o1')], members: [], next: { 'rfm-hibernating': T0 + 180 * D, 'rfm-lost': T0 + 365 * D } },
      { at: T0 + 180 * D, members: ['rfm-hibernating'] },
      { at: T0 + 365 * D, members: ['rfm-lost'] },
    ]);
    runTimeline(defs, RFM, [{ at: T0 + 2 * D, events: [0, 1, 2].map((i) => purchase(T0 + i * D, `s${i}`, { total: 500 })), members: ['rfm-loyal'] }]);
  });

  it('stale-contact: enters 365 d after the newest e-mail or phone confirmation, exactly; leaves when an event confirms one', () => {
    const anonymous = (at: number) => click(at, 'page_view', { anonymous: true });
    runTimeline(
      defs,
      ['stale-contact'],
      [
        { at: T0, events: [purchase(T0, 'o1')], members: [], next: { 'stale-contact': T0 + 365 * D } },
        {
          at: T0 + 100 * D,
          events: [anonymous(T0 + 100 * D)],
          members: [],
          next: { 'stale-contact': T0 + 365 * D },
          note: 'no contact data: confirms nothing',
        },
        { at: T0 + 365 * D - 1, members: [] },
        { at: T0 + 365 * D, members: ['stale-contact'], next: { 'stale-contact': null } },
        {
          at: T0 + 400 * D,
          events: [purchase(T0 + 200 * D, 'o2')],
          members: [],
          next: { 'stale-contact': T0 + 565 * D },
          note: 'a late event confirms as of its own time',
        },
        { at: T0 + 565 * D, members: ['stale-contact'] },
        { at: T0 + 600 * D, events: [click(T0 + 600 * D, 'page_view')], members: [], next: { 'stale-contact': T0 + 965 * D } },
      ],
    );
  });

  it('stale-contact: never without contact data; the age is a parameter', async () => {
    runTimeline(
      defs,
      ['stale-contact'],
      [{ at: T0 + 900 * D, events: [click(T0, 'page_view', { anonymous: true })], members: [], next: { 'stale-contact': null } }],
    );
    const monthly = await loadDefinitions(DIR, { params: { 'stale-contact': { stale_after: '30d' } } });
    runTimeline(monthly, ['stale-contact'], [{ at: T0, events: [purchase(T0, 'o1')], members: [], next: { 'stale-contact': T0 + 30 * D } }]);
  });

  it('traits are the named fields as strings', async () => {
    const { traitsOf } = await import('./evaluate.ts');
    const { viewOf } = await import('./testing/events.ts');
    const hv = defs.find((d) => d.id === 'high-value')!;
    assert.deepEqual(traitsOf(hv, viewOf([purchase(T0, 'a', { total: 700 })])), { 'transactions.revenue_minor.GBP': '700' });
    const er = defs.find((d) => d.id === 'email-reachable')!;
    assert.deepEqual(traitsOf(er, viewOf([purchase(T0, 'a')])), { 'identity.emails': 'alice@example.com' });
  });
});
