/**
 * Redis key layout. Every profile key carries the hash tag `{<profile id>}` and every identifier key its own
 * `{<type>:<value>}` tag, so a script only ever touches keys of one slot and the store runs on Redis Cluster.
 *   <prefix>id:{email:a@b.c}        → profile id that owns the identifier (SET NX: atomic per identifier)
 *   <prefix>p:{<pid>}:doc           → the profile document (JSON)
 *   <prefix>p:{<pid>}:seen          → ZSET event_id → occurred_at (de-duplication window)
 *   <prefix>p:{<pid>}:alias         → the surviving profile id once this one was merged
 *   <prefix>p:{<pid>}:meta          → HASH version, created_at, merged (JSON list of merged ids)
 *   <prefix>p:{<pid>}:ids:<type>    → SET of the identifiers of that type the profile owns (limits checked here)
 *   <prefix>mergelog                → STREAM of merges and refused merges
 */
export type IdentifierType = 'user_id' | 'email' | 'phone' | 'anonymous_id';
export const IDENTIFIER_PRIORITY: readonly IdentifierType[] = ['user_id', 'email', 'phone', 'anonymous_id'];

export interface KeySpace {
  identifier(type: IdentifierType, value: string): string;
  profile(pid: string): { doc: string; seen: string; alias: string; meta: string; ids: (type: IdentifierType) => string };
  mergeLog: string;
}

export function keySpace(prefix = 'ps:'): KeySpace {
  return {
    identifier: (type, value) => `${prefix}id:{${type}:${value}}`,
    profile: (pid) => ({
      doc: `${prefix}p:{${pid}}:doc`,
      seen: `${prefix}p:{${pid}}:seen`,
      alias: `${prefix}p:{${pid}}:alias`,
      meta: `${prefix}p:{${pid}}:meta`,
      ids: (type: IdentifierType) => `${prefix}p:{${pid}}:ids:${type}`,
    }),
    mergeLog: `${prefix}mergelog`,
  };
}
