/**
 * PII in the warehouse: e-mail and phone are stored as a keyed hash unless WAREHOUSE_PII=plain. The hash is the
 * one ProfileErased.identifier_hashes uses — HMAC-SHA256 hex of "<type>:<normalised value>" (type: user_id, email,
 * phone, anonymous_id) with PII_HASH_KEY — so an erasure finds the rows without the PII travelling.
 */
import { createHmac } from 'node:crypto';

export type IdentifierType = 'user_id' | 'email' | 'phone' | 'anonymous_id';
export type PiiMode = 'hash' | 'plain';

export function identifierHash(key: string, type: IdentifierType, value: string): string {
  return createHmac('sha256', key).update(`${type}:${value}`).digest('hex');
}

/** The identifier hash of a value as the warehouse stores it (e-mail and phone are stored hashed in `hash` mode). */
export function tombstoner(mode: PiiMode, key: string): (type: IdentifierType, stored: string) => string {
  return (type, stored) => (mode === 'hash' && (type === 'email' || type === 'phone') ? stored : identifierHash(key, type, stored));
}

/** How e-mail and phone values are stored: the keyed hash, or as they are. */
export function piiStorer(mode: PiiMode, key: string): (type: 'email' | 'phone', value: string) => string {
  return mode === 'plain' ? (_type, value) => value : (type, value) => identifierHash(key, type, value);
}
