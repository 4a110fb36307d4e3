/**
 * Redis key layout. Two kinds of slots, so the store runs on Redis Cluster with every script touching one slot:
 *
 * The identity index: every key shares the hash tag `{<prefix>ix}` (one slot), so one script decides a whole chunk's
 * identity atomically (which profile each identifier set belongs to, claims, merges, refusals, the repoint).
 *   <prefix>{<prefix>ix}:id:<type>:<value>  → the live root profile that owns the identifier
 *   <prefix>{<prefix>ix}:ids:<pid>          → HASH of the identifiers the root owns (`<type>:<value>` → 1) and their
 *                                             counts per type (`#<type>` → n; the limits are checked on these)
 *   <prefix>{<prefix>ix}:merging            → HASH merged pid → JSON of a decided merge whose data move is not yet
 *                                             confirmed (survivor, current root, matched_on, trigger, times): the journal
 *   <prefix>{<prefix>ix}:into:<root>        → SET of the merged pids in the journal whose current root is <root>
 *   <prefix>{<prefix>ix}:mergelog           → STREAM of every merge and refused merge (written by the deciding script)
 *   <prefix>{<prefix>ix}:erasing            → HASH pid → audit id of profiles being erased: the resolve script treats
 *                                             them as owning nothing (no claim, no merge) until their entries are gone
 *
 * Erasures (erase.ts; no PII: pids, counts and identifier hashes only):
 *   <prefix>audit:erasures         → STREAM of the audit records of completed erasures
 *   <prefix>audit:erasure:<audit>  → HASH of one erasure: its record (JSON) and state (erasing, erased, published)
 *   <prefix>audit:erased-ids       → HASH identifier hash → audit id of the erasure that removed the identifier
 *
 * A profile: every key carries the hash tag `{<pid>}` (profile data is sharded by profile).
 *   <prefix>p:{<pid>}:doc      → the profile document (JSON)
 *   <prefix>p:{<pid>}:seen     → ZSET event_id → arrival time (ms): the de-duplication window
 *   <prefix>p:{<pid>}:meta     → HASH version, created_at
 *   <prefix>p:{<pid>}:alias    → the survivor, once this profile was sealed for a merge (kept for redirection)
 *   <prefix>p:{<pid>}:pending  → SET of profiles being absorbed into this one (folds wait for them)
 *   <prefix>p:{<pid>}:merged   → SET of every profile absorbed into this one, transitively
 *   <prefix>p:{<pid>}:erased   → the erasure's tombstone (JSON: audit id, time): every profile script refuses this pid
 * Once absorbed, a merged profile keeps only its alias; once erased, a profile keeps only its tombstone (erase.ts).
 */
import { ProfileError } from '../errors.ts';

export type IdentifierType = 'user_id' | 'email' | 'phone' | 'anonymous_id';
export const IDENTIFIER_PRIORITY: readonly IdentifierType[] = ['user_id', 'email', 'phone', 'anonymous_id'];

export interface ProfileKeys {
  doc: string;
  seen: string;
  meta: string;
  alias: string;
  pending: string;
  merged: string;
  erased: string;
}

export interface KeySpace {
  readonly prefix: string;
  /** Prefix of every identity-index key (ends with ':'); the Lua scripts build their keys from it. */
  readonly index: string;
  identifier(type: IdentifierType, value: string): string;
  /** The identity index's HASH of the identifiers a root owns and their counts per type. */
  owned(pid: string): string;
  journal: string;
  into(root: string): string;
  mergeLog: string;
  erasing: string;
  auditLog: string;
  audit(auditId: string): string;
  erasedIds: string;
  profile(pid: string): ProfileKeys;
  /** The keys of a profile in the order every profile script takes them (KEYS[1..7]). */
  profileArgs(pid: string): string[];
}

/** A key prefix may not contain braces: they would change the hash tags above. */
export function keySpace(prefix = 'ps:'): KeySpace {
  if (/[{}]/.test(prefix)) throw new ProfileError('invalid_options', `key prefix ${JSON.stringify(prefix)} may not contain { or }`, { path: 'prefix' });
  const index = `${prefix}{${prefix}ix}:`;
  const profile = (pid: string): ProfileKeys => {
    const p = `${prefix}p:{${pid}}:`;
    return { doc: `${p}doc`, seen: `${p}seen`, meta: `${p}meta`, alias: `${p}alias`, pending: `${p}pending`, merged: `${p}merged`, erased: `${p}erased` };
  };
  return {
    prefix,
    index,
    identifier: (type, value) => `${index}id:${type}:${value}`,
    owned: (pid) => `${index}ids:${pid}`,
    journal: `${index}merging`,
    into: (root) => `${index}into:${root}`,
    mergeLog: `${index}mergelog`,
    erasing: `${index}erasing`,
    auditLog: `${prefix}audit:erasures`,
    audit: (auditId) => `${prefix}audit:erasure:${auditId}`,
    erasedIds: `${prefix}audit:erased-ids`,
    profile,
    profileArgs: (pid) => {
      const k = profile(pid);
      return [k.doc, k.seen, k.meta, k.alias, k.pending, k.merged, k.erased];
    },
  };
}
