// The generator's view of the input contracts: the types and enum symbols come from the code that
// `npm run codegen` generates from schemas/*.avsc, so the generator cannot drift from the schemas.
// Times are epoch milliseconds. A nullable field is the value or null (never Avro's {"string": …} wrapper).
import {
  ClickEventTypeValues,
  ConsentPurposeValues,
  DeviceTypeValues,
  PurchaseChannelValues,
  PurchaseStatusValues,
  TicketChannelValues,
  TicketPriorityValues,
  TicketStatusValues,
  type ClickEvent,
  type ClickEventType,
  type ConsentPurpose,
  type DeviceType,
  type LoyaltyEvent,
  type Purchase,
  type PurchaseChannel,
  type PurchaseItem,
  type PurchaseStatus,
  type SupportTicket,
  type TicketChannel,
  type TicketPriority,
  type TicketStatus,
} from '@profile-stream/contracts';

export type {
  ClickEvent,
  ConsentPurpose,
  DeviceType,
  LoyaltyEvent,
  Purchase,
  PurchaseChannel,
  PurchaseItem,
  PurchaseStatus,
  SupportTicket,
  TicketChannel,
  TicketPriority,
  TicketStatus,
};
export type ClickType = ClickEventType;
export const CLICK_TYPES = ClickEventTypeValues;
export const DEVICE_TYPES = DeviceTypeValues;
export const CONSENT_PURPOSES = ConsentPurposeValues;
export const PURCHASE_STATUSES = PurchaseStatusValues;
export const PURCHASE_CHANNELS = PurchaseChannelValues;
export const TICKET_STATUSES = TicketStatusValues;
export const TICKET_CHANNELS = TicketChannelValues;
export const TICKET_PRIORITIES = TicketPriorityValues;

export const TOPICS = ['clickstream', 'purchases', 'support-tickets', 'loyalty'] as const;
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

export interface TopicValue {
  clickstream: ClickEvent;
  purchases: Purchase;
  'support-tickets': SupportTicket;
  loyalty: LoyaltyEvent;
}

/** An event before the emitter stamps its event_id and the customer's B2B account. */
export type Draft<T extends EventHeader> = Omit<T, 'event_id' | 'account'>;

export type ValidRecord =
  | { topic: 'clickstream'; key: string | null; value: ClickEvent }
  | { topic: 'purchases'; key: string | null; value: Purchase }
  | { topic: 'support-tickets'; key: string | null; value: SupportTicket }
  | { topic: 'loyalty'; key: string | null; value: LoyaltyEvent };

export const MALFORMED_REASONS = ['invalid_json', 'wrong_type', 'unknown_enum', 'missing_event_id', 'no_usable_identifier'] as const;
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
