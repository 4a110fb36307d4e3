// The profile fields that conditions and traits may name: the stable names of the profile view
// (packages/profile/src/view.ts `profileView`). A definition naming anything else is refused at load.
// `<currency>` is an ISO 4217 code, `<purpose>` a consent purpose, `<key>` any map key of that object.

export type FieldType = 'number' | 'string' | 'boolean' | 'timestamp' | 'list';

/** Consent purposes of ClickEvent.consent.purpose (schemas/ClickEvent.avsc). */
export const CONSENT_PURPOSES: readonly string[] = ['email', 'sms', 'push', 'analytics', 'personalization'];
/** Names a definition may use for a purpose (DESIGN §6 writes `marketing_email`; the Avro enum says `email`). */
export const CONSENT_ALIASES: Readonly<Record<string, string>> = { marketing_email: 'email', marketing_sms: 'sms', marketing_push: 'push' };

export const FIELD_CATALOGUE: Readonly<Record<string, FieldType>> = {
  profile_id: 'string',
  merged_ids: 'list',
  last_event_at: 'timestamp',
  'identity.user_ids': 'list',
  'identity.emails': 'list',
  'identity.phones': 'list',
  'identity.anonymous_ids': 'list',
  'acquisition.first_touch.channel': 'string',
  'acquisition.first_touch.source': 'string',
  'acquisition.first_touch.medium': 'string',
  'acquisition.first_touch.campaign': 'string',
  'acquisition.first_touch.referrer': 'string',
  'acquisition.first_touch.landing_page': 'string',
  'acquisition.first_touch.at': 'timestamp',
  'acquisition.first_order_channel': 'string',
  'demographic.country': 'string',
  'demographic.locale': 'string',
  'technology.devices': 'list',
  'technology.device_types': 'list',
  'technology.last_device.type': 'string',
  'technology.last_device.os': 'string',
  'technology.last_device.browser': 'string',
  'technology.last_device.at': 'timestamp',
  'activity.first_seen_at': 'timestamp',
  'activity.last_seen_at': 'timestamp',
  'activity.events.<key>': 'number',
  'activity.page_views': 'number',
  'activity.product_views': 'number',
  'activity.product_views_by_category.<key>': 'number',
  'activity.searches': 'number',
  'activity.last_search': 'string',
  'activity.categories': 'list',
  'activity.cart.last_add_to_cart_at': 'timestamp',
  'activity.cart.last_checkout_started_at': 'timestamp',
  'activity.cart.items': 'list',
  'transactions.orders_count': 'number',
  'transactions.revenue_minor.<currency>': 'number',
  'transactions.average_order_value_minor.<currency>': 'number',
  'transactions.first_purchase_at': 'timestamp',
  'transactions.last_purchase_at': 'timestamp',
  'transactions.refunds_count': 'number',
  'transactions.cancellations_count': 'number',
  'transactions.channels': 'list',
  'support.open_tickets': 'number',
  'support.open_urgent_tickets': 'number',
  'support.tickets_count': 'number',
  'support.last_csat': 'number',
  'support.average_csat': 'number',
  'support.last_contact_channel': 'string',
  'consent.<purpose>.granted': 'boolean',
  'consent.<purpose>.source': 'string',
  'consent.<purpose>.at': 'timestamp',
  /** The newest confirmation of any e-mail or phone; per-value times (freshness.email/phone) have dotted keys, so are not named here. */
  'freshness.contact_confirmed_at': 'timestamp',
  'freshness.country': 'timestamp',
  'freshness.locale': 'timestamp',
  'freshness.consent.<purpose>': 'timestamp',
  /** Written by `profile-stream predict score` (BG/NBD + Gamma-Gamma); null until a profile is scored. */
  'predictions.model_version': 'number',
  'predictions.scored_at': 'timestamp',
  'predictions.p_alive': 'number',
  'predictions.expected_purchases.d30': 'number',
  'predictions.expected_purchases.d90': 'number',
  'predictions.expected_purchases.d365': 'number',
  'predictions.currency': 'string',
  'predictions.expected_order_minor': 'number',
  'predictions.clv_minor': 'number',
  'predictions.next_purchase_at': 'timestamp',
  /** The engagement channel and UTC hour of the week (0 = Monday 00h–01h … 167), shrunk toward the population's rates. */
  'predictions.best_channel': 'string',
  'predictions.best_hour_of_week': 'number',
  /** The loyalty programme (packages/profile/src/loyalty.ts): status `enrolled` or `left`; the balance may be negative. */
  'loyalty.member_id': 'string',
  'loyalty.status': 'string',
  'loyalty.tier': 'string',
  'loyalty.tier_since': 'timestamp',
  'loyalty.enrolled_at': 'timestamp',
  'loyalty.points_balance': 'number',
  'loyalty.overdrawn': 'boolean',
  'loyalty.lifetime_points': 'number',
  'loyalty.points_redeemed': 'number',
  'loyalty.points_expired': 'number',
  'loyalty.last_earned_at': 'timestamp',
  'loyalty.last_redeemed_at': 'timestamp',
  'loyalty.last_activity_at': 'timestamp',
  'loyalty.next_expiry_at': 'timestamp',
  'loyalty.next_expiry_points': 'number',
};

const WILDCARDS: Record<string, (segment: string) => boolean> = {
  '<currency>': (s) => /^[A-Z]{3}$/.test(s),
  '<purpose>': (s) => CONSENT_PURPOSES.includes(s),
  '<key>': (s) => s.length > 0,
};

/** The type of a catalogued field, or undefined when conditions may not use it. */
export function fieldType(path: string): FieldType | undefined {
  const own = Object.hasOwn(FIELD_CATALOGUE, path) ? FIELD_CATALOGUE[path] : undefined;
  if (own !== undefined) return own;
  const segments = path.split('.');
  for (const [pattern, type] of Object.entries(FIELD_CATALOGUE)) {
    const parts = pattern.split('.');
    if (parts.length !== segments.length) continue;
    if (parts.every((p, i) => (Object.hasOwn(WILDCARDS, p) ? WILDCARDS[p]!(segments[i]!) : p === segments[i]))) return type;
  }
  return undefined;
}
