/**
 * The membership store's Redis key layout. Keys are sharded by profile id (`shardOf`); every key of a shard carries
 * the hash tag `{seg:<shard>}`, so each script touches one slot (Redis Cluster safe) and the relay and the scheduler
 * work shard by shard:
 *   <prefix>seg:{seg:<s>}:m:<pid>        HASH  pv (profile version evaluated), dead (merged:<survivor> | erased),
 *                                              s:<segment> "member,membership_version,definition_version,occurred_at",
 *                                              d:<segment> next instant the segment's answer flips by the clock
 *   <prefix>seg:{seg:<s>}:outbox         STREAM membership events waiting for the relay (fields: scripts.ts)
 *   <prefix>seg:{seg:<s>}:relayed        the last outbox id published to Kafka
 *   <prefix>seg:{seg:<s>}:due            ZSET pid → earliest d:* (the scheduler's work list)
 *   <prefix>seg:{seg:<s>}:in:<seg>       SET  members of a segment (sizes, listings)
 *   <prefix>seg:{seg:<s>}:outbox:lease   the relay instance that owns the shard (leases.ts)
 *   <prefix>seg:{seg:<s>}:due:lease      the scheduler instance that owns the shard
 *   <prefix>seg:defs                     HASH segment id → JSON of the definition version in use (definitions.ts)
 *   <prefix>seg:shards                   the shard count the state is placed with (SEGMENTER_SHARDS; placement.ts)
 */

/** FNV-1a over the profile id: the shard of its segment state. */
export function shardOf(pid: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < pid.length; i++) {
    h ^= pid.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

export interface ShardKeys {
  outbox: string;
  relayed: string;
  due: string;
  /** The membership state of one profile. */
  member: (pid: string) => string;
  /** The member set of one segment, and the prefix the retire script builds those keys from. */
  members: (segment: string) => string;
  membersPrefix: string;
  /** The shard's lease per role that works shard by shard. */
  lease: { relay: string; scheduler: string };
}

export interface SegmentKeys {
  shard(s: number): ShardKeys;
  defs: string;
  /** The shard count the state is placed with (placement.ts). */
  shards: string;
}

export function segmentKeys(prefix: string): SegmentKeys {
  return {
    shard: (s) => {
      const base = `${prefix}seg:{seg:${s}}`;
      return {
        outbox: `${base}:outbox`,
        relayed: `${base}:relayed`,
        due: `${base}:due`,
        member: (pid: string) => `${base}:m:${pid}`,
        members: (segment: string) => `${base}:in:${segment}`,
        membersPrefix: `${base}:in:`,
        lease: { relay: `${base}:outbox:lease`, scheduler: `${base}:due:lease` },
      };
    },
    defs: `${prefix}seg:defs`,
    shards: `${prefix}seg:shards`,
  };
}
