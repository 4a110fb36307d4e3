// Small builders of input events and the real profile view they fold into (foldEvents + profileView), for tests.
import { foldEvents, normaliseIdentifiers, profileView } from '@profile-stream/profile';
import type { EventOf, FoldInput, JsonValue } from '@profile-stream/profile';
import { clickEvent } from '@profile-stream/contracts/testing';

export const H = 3_600_000;
export const D = 24 * H;
export const T0 = Date.UTC(2025, 0, 1);

const GB = { defaultRegion: 'GB', blocklist: new Set<string>() };
const WHO = { anonymous_id: null, user_id: 'u_1', email: 'alice@example.com', phone: null, account: null };
let seq = 0;
const nextId = (p: string) => `${p}-${String(seq++).padStart(6, '0')}`;

function input<T extends 'clickstream' | 'purchases' | 'support-tickets' | 'loyalty'>(topic: T, event: EventOf<T>): FoldInput {
  return { topic, event, ids: normaliseIdentifiers(event, GB) } as FoldInput;
}

export function purchase(at: number, order_id: string, opts: { status?: EventOf<'purchases'>['status']; total?: number; currency?: string } = {}): FoldInput {
  return input('purchases', {
    ...WHO,
    event_id: nextId('p'),
    occurred_at: at,
    order_id,
    status: opts.status ?? 'completed',
    channel: 'web',
    currency: opts.currency ?? 'GBP',
    total_minor: opts.total ?? 1000,
    items: [],
  });
}

type ClickType = EventOf<'clickstream'>['type'];
export function click(
  at: number,
  type: ClickType,
  opts: { consent?: { purpose: 'email' | 'sms' | 'push' | 'analytics' | 'personalization'; granted: boolean }; anonymous?: boolean } = {},
): FoldInput {
  const who = opts.anonymous ? { ...WHO, user_id: null, email: null, anonymous_id: 'anon-1' } : WHO;
  return input(
    'clickstream',
    clickEvent({
      ...who,
      event_id: nextId('c'),
      occurred_at: at,
      type,
      product: type === 'product_view' || type === 'add_to_cart' ? { sku: 'SKU-1', category: 'shoes', price_minor: 1000, currency: 'GBP' } : null,
      consent: opts.consent ?? null,
    }),
  );
}

export const consent = (at: number, purpose: 'email' | 'sms', granted: boolean) => click(at, 'consent_updated', { consent: { purpose, granted } });

export function ticket(
  at: number,
  ticket_id: string,
  status: EventOf<'support-tickets'>['status'],
  satisfaction: number | null = null,
  priority: EventOf<'support-tickets'>['priority'] = 'urgent',
): FoldInput {
  return input('support-tickets', {
    ...WHO,
    event_id: nextId('t'),
    occurred_at: at,
    ticket_id,
    status,
    channel: 'chat',
    priority,
    category: null,
    subject: null,
    satisfaction,
  });
}

/** A loyalty event of the same customer (member M-1): points for the points_* types, a tier for enrolled / tier_changed. */
export function loyalty(at: number, type: EventOf<'loyalty'>['type'], opts: { points?: number; tier?: string; expires_at?: number } = {}): FoldInput {
  const { account: _, ...who } = WHO;
  return input('loyalty', {
    ...who,
    event_id: nextId('l'),
    occurred_at: at,
    member_id: 'M-1',
    type,
    points: opts.points ?? null,
    tier: opts.tier ?? null,
    reason: null,
    order_id: null,
    expires_at: opts.expires_at ?? null,
  });
}

/** The profile view of a list of events, as the stitchers publish it. */
export function viewOf(events: readonly FoldInput[]): JsonValue {
  return profileView(foldEvents(events), { profile_id: 'p_test', merged_ids: [] });
}
