// Small builders of input events and the real profile view they fold into (foldEvents + profileView), for tests.
import { foldEvents, normaliseIdentifiers, profileView } from '@profile-stream/profile';
import type { EventOf, FoldInput, JsonValue } from '@profile-stream/profile';

export const H = 3_600_000;
export const D = 24 * H;
export const T0 = Date.UTC(2025, 0, 1);

const GB = { defaultRegion: 'GB', blocklist: new Set<string>() };
const WHO = { anonymous_id: null, user_id: 'u_1', email: 'alice@example.com', phone: null, account: null };
let seq = 0;
const nextId = (p: string) => `${p}-${String(seq++).padStart(6, '0')}`;

function input<T extends 'clickstream' | 'purchases' | 'support-tickets'>(topic: T, event: EventOf<T>): FoldInput {
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
  return input('clickstream', {
    ...who,
    event_id: nextId('c'),
    occurred_at: at,
    type,
    page: null,
    utm: null,
    device: null,
    country: null,
    locale: null,
    product: type === 'product_view' || type === 'add_to_cart' ? { sku: 'SKU-1', category: 'shoes', price_minor: 1000, currency: 'GBP' } : null,
    search_query: null,
    consent: opts.consent ?? null,
  });
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

/** The profile view of a list of events, as the stitchers publish it. */
export function viewOf(events: readonly FoldInput[]): JsonValue {
  return profileView(foldEvents(events), { profile_id: 'p_test', merged_ids: [] });
}
