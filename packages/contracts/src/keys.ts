/**
 * Record keys (DESIGN §3): clickstream is keyed by user_id, else anonymous_id; purchases and support
 * tickets by the customer key: user_id, else e-mail (trimmed, lower-cased), else phone (digits and +).
 * Keys only decide partitions (per-customer order); identity resolution happens in the stitchers.
 */
import type { TopicId } from './generated/topics.ts';

const usable = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

export function eventKey(topic: TopicId, value: Record<string, unknown>): string | null {
  if (usable(value.user_id)) return value.user_id.trim();
  if (topic === 'clickstream' && usable(value.anonymous_id)) return value.anonymous_id.trim();
  if (usable(value.email)) return value.email.trim().toLowerCase();
  if (usable(value.phone)) return value.phone.replace(/[^\d+]/g, '');
  if (usable(value.anonymous_id)) return value.anonymous_id.trim();
  if (usable(value.profile_id)) return value.profile_id;
  return null;
}
