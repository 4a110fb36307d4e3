/** Test support of the contracts package (`@profile-stream/contracts/testing`): builders of valid events. */
import type { ClickEvent } from './generated/ClickEvent.ts';

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
