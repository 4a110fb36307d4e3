// Plain-JSON shapes of the input contracts (DESIGN §3). Local stand-ins for the types that packages/contracts
// will generate from schemas/*.avsc; the field names and enum symbols must stay identical to the schemas.
// Times are epoch milliseconds. A nullable field is the value or null (never Avro's {"string": …} wrapper).

export const CLICK_TYPES = [
  'page_view', 'product_view', 'search', 'add_to_cart', 'remove_from_cart', 'checkout_started',
  'signup', 'login', 'email_open', 'email_click', 'consent_updated',
] as const;
export type ClickType = (typeof CLICK_TYPES)[number];

export const DEVICE_TYPES = ['desktop', 'mobile', 'tablet', 'other'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

export const CONSENT_PURPOSES = ['email', 'sms', 'push', 'analytics', 'personalization'] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];

export const PURCHASE_STATUSES = ['completed', 'refunded', 'cancelled'] as const;
export type PurchaseStatus = (typeof PURCHASE_STATUSES)[number];

export const PURCHASE_CHANNELS = ['web', 'app', 'store', 'phone', 'marketplace'] as const;
export type PurchaseChannel = (typeof PURCHASE_CHANNELS)[number];

export const TICKET_STATUSES = ['opened', 'updated', 'resolved', 'closed', 'reopened'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export const TICKET_CHANNELS = ['email', 'phone', 'chat', 'social', 'in_store', 'web_form'] as const;
export type TicketChannel = (typeof TICKET_CHANNELS)[number];

export const TICKET_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];

export const TOPICS = ['clickstream', 'purchases', 'support-tickets'] as const;
export type Topic = (typeof TOPICS)[number];

/** The identifier fields every input event carries (DESIGN §3). */
export interface Identifiers {
  anonymous_id: string | null;
  user_id: string | null;
  email: string | null;
  phone: string | null;
}
export const IDENTIFIER_FIELDS = ['anonymous_id', 'user_id', 'email', 'phone'] as const;
export type IdentifierField = (typeof IDENTIFIER_FIELDS)[number];

export interface EventHeader extends Identifiers {
  event_id: string;
  occurred_at: number;
}

export interface ClickEvent extends EventHeader {
  type: ClickType;
  page: { url: string; referrer: string | null; title: string | null } | null;
  utm: { source: string | null; medium: string | null; campaign: string | null } | null;
  device: { type: DeviceType; os: string | null; browser: string | null } | null;
  country: string | null;
  locale: string | null;
  product: { sku: string; category: string | null; price_minor: number | null; currency: string | null } | null;
  search_query: string | null;
  consent: { purpose: ConsentPurpose; granted: boolean } | null;
}

export interface PurchaseItem {
  sku: string;
  category: string | null;
  quantity: number;
  unit_price_minor: number;
}

export interface Purchase extends EventHeader {
  order_id: string;
  status: PurchaseStatus;
  channel: PurchaseChannel;
  currency: string;
  total_minor: number;
  items: PurchaseItem[];
}

export interface SupportTicket extends EventHeader {
  ticket_id: string;
  status: TicketStatus;
  channel: TicketChannel;
  priority: TicketPriority;
  category: string | null;
  subject: string | null;
  satisfaction: number | null;
}

export interface TopicValue {
  clickstream: ClickEvent;
  purchases: Purchase;
  'support-tickets': SupportTicket;
}

/** An event before the emitter stamps its event_id. */
export type Draft<T extends EventHeader> = Omit<T, 'event_id'>;

export type ValidRecord =
  | { topic: 'clickstream'; key: string | null; value: ClickEvent }
  | { topic: 'purchases'; key: string | null; value: Purchase }
  | { topic: 'support-tickets'; key: string | null; value: SupportTicket };

export const MALFORMED_REASONS = [
  'invalid_json', 'wrong_type', 'unknown_enum', 'missing_event_id', 'no_usable_identifier',
] as const;
export type MalformedReason = (typeof MALFORMED_REASONS)[number];

/** A record a consumer must dead-letter: `raw` is the line/bytes as an upstream app would send them. */
export interface MalformedRecord {
  topic: Topic;
  key: string | null;
  raw: string;
  malformed: MalformedReason;
}

export type GeneratedRecord = ValidRecord | MalformedRecord;

export function isMalformed(record: GeneratedRecord): record is MalformedRecord {
  return 'malformed' in record;
}
