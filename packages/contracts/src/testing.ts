/** Test support of the contracts package (`@profile-stream/contracts/testing`): builders of valid events. */
import type { ClickEvent } from './generated/ClickEvent.ts';
import type { LoyaltyEvent } from './generated/LoyaltyEvent.ts';
import type { Purchase } from './generated/Purchase.ts';

/** A click event with no identifier and every optional part null (a page view unless `over` says otherwise). */
export function clickEvent(over: Pick<ClickEvent, 'event_id' | 'occurred_at'> & Partial<ClickEvent>): ClickEvent {
  return {
    anonymous_id: null,
    user_id: null,
    email: null,
    phone: null,
    type: 'page_view',
    page: null,
    utm: null,
    device: null,
    country: null,
    locale: null,
    product: null,
    search_query: null,
    consent: null,
    account: null,
    ...over,
  };
}

/** A completed web order of no items, with no identifier and no account (amount, currency and ids from `over`). */
export function purchase(over: Pick<Purchase, 'event_id' | 'occurred_at' | 'order_id' | 'total_minor'> & Partial<Purchase>): Purchase {
  return {
    anonymous_id: null,
    user_id: null,
    email: null,
    phone: null,
    account: null,
    status: 'completed',
    channel: 'web',
    currency: 'GBP',
    items: [],
    ...over,
  };
}

/** A loyalty event with no identifier and every optional field null (its member, type and ids from `over`). */
export function loyaltyEvent(over: Pick<LoyaltyEvent, 'event_id' | 'occurred_at' | 'member_id' | 'type'> & Partial<LoyaltyEvent>): LoyaltyEvent {
  return {
    anonymous_id: null,
    user_id: null,
    email: null,
    phone: null,
    points: null,
    tier: null,
    reason: null,
    order_id: null,
    expires_at: null,
    ...over,
  };
}
