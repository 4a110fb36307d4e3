// Semantic validation of a decoded input event (the Avro decode already checked types and enum values). Throws a
// ProfileError whose code is the DLQ reason. Pure: `now` is a parameter.
import type { ClickEvent, LoyaltyEvent, Purchase, SupportTicket } from '@profile-stream/contracts';
import { ProfileError } from './errors.ts';
import { isIsoCurrency } from './iso4217.ts';
import { validateLoyalty } from './loyalty.ts';
import { hasIdentifier } from './normalise.ts';
import type { NormalisedIds } from './normalise.ts';

/** The input topics the profile fold reads (topic ids of the contracts topic table). */
export type InputTopic = 'clickstream' | 'purchases' | 'support-tickets' | 'loyalty';

export type InputEvent =
  | { readonly topic: 'clickstream'; readonly event: ClickEvent }
  | { readonly topic: 'purchases'; readonly event: Purchase }
  | { readonly topic: 'support-tickets'; readonly event: SupportTicket }
  | { readonly topic: 'loyalty'; readonly event: LoyaltyEvent };

export type EventOf<T extends InputTopic> = Extract<InputEvent, { topic: T }>['event'];

export const DEFAULT_MAX_FUTURE_MS = 24 * 60 * 60 * 1000;

export interface ValidateOptions {
  /** Current time, epoch ms. */
  now: number;
  /** How far occurred_at may lie in the future (clock skew allowance); default 24 h. */
  maxFutureMs?: number;
  /** The loyalty programme's tiers (default DEFAULT_LOYALTY_TIERS). */
  loyaltyTiers?: readonly string[];
}

function amount(value: number, path: string): void {
  if (value < 0) throw new ProfileError('negative_amount', `${path} is negative (${value})`, { path });
}

function currency(code: string, path: string): void {
  if (!isIsoCurrency(code)) throw new ProfileError('invalid_currency', `${path} '${code}' is not an ISO 4217 currency code`, { path });
}

function validatePurchase(e: Purchase): void {
  currency(e.currency, 'currency');
  amount(e.total_minor, 'total_minor');
  e.items.forEach((item, i) => {
    if (item.quantity < 0) {
      throw new ProfileError('negative_quantity', `items.${i}.quantity is negative (${item.quantity})`, { path: `items.${i}.quantity` });
    }
    amount(item.unit_price_minor, `items.${i}.unit_price_minor`);
  });
  // A completed total that differs from Σ quantity × unit_price is accepted: discounts, shipping and vouchers exist.
}

function validateClick(e: ClickEvent): void {
  if (e.product === null) return;
  if (e.product.price_minor !== null) amount(e.product.price_minor, 'product.price_minor');
  if (e.product.currency !== null) currency(e.product.currency, 'product.currency');
}

function validateTicket(e: SupportTicket): void {
  const s = e.satisfaction;
  if (s !== null && !(Number.isInteger(s) && s >= 1 && s <= 5)) {
    throw new ProfileError('invalid_satisfaction', `satisfaction must be an integer from 1 to 5 (got ${s})`, { path: 'satisfaction' });
  }
}

/** Throws the first problem of the event as a ProfileError (never retriable). */
export function validateEvent<T extends InputTopic>(topic: T, event: EventOf<T>, options: ValidateOptions): void {
  const maxFutureMs = options.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
  const t = event.occurred_at;
  if (!Number.isSafeInteger(t) || t < 0) {
    throw new ProfileError('invalid_timestamp', `occurred_at must be epoch milliseconds (got ${t})`, { path: 'occurred_at' });
  }
  if (t > options.now + maxFutureMs) {
    throw new ProfileError('future_timestamp', `occurred_at ${new Date(t).toISOString()} is more than ${maxFutureMs} ms after now`, { path: 'occurred_at' });
  }
  const input = { topic, event } as InputEvent;
  switch (input.topic) {
    case 'clickstream':
      validateClick(input.event);
      return;
    case 'purchases':
      validatePurchase(input.event);
      return;
    case 'support-tickets':
      validateTicket(input.event);
      return;
    case 'loyalty':
      validateLoyalty(input.event, options.loyaltyTiers);
      return;
  }
}

/** Throws no_identifier when normalisation left no usable identifier. */
export function requireIdentifier(ids: NormalisedIds): void {
  if (!hasIdentifier(ids)) {
    const dropped = ids.dropped.map((d) => `${d.field}: ${d.reason}`).join(', ');
    throw new ProfileError('no_identifier', `no usable identifier${dropped ? ` (dropped ${dropped})` : ''}`);
  }
}
