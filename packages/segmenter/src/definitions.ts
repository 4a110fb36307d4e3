/**
 * The definitions in use, recorded in Redis (`<prefix>seg:defs`) so the CLI can list them with their sizes and
 * a changed definition is noticed: the segmenter logs which ones need `profile-stream segments backfill <id>`.
 */
import type { Redis } from 'ioredis';
import type { SegmentDefinition } from '@profile-stream/segments';
import type { SegmentKeys } from './store/keys.ts';

export interface RecordedDefinition {
  version: number;
  name: string;
  params: Record<string, unknown>;
  /** Version and parameters: a changed parameter (SEGMENT_PARAMS) changes the segment as much as a new version. */
  fingerprint: string;
  /** The fingerprint last backfilled (or in use at the first start), null if never. */
  backfilled: string | null;
}

export const fingerprintOf = (def: SegmentDefinition) =>
  `v${def.version} ${JSON.stringify(Object.fromEntries(Object.entries(def.params).sort(([a], [b]) => (a < b ? -1 : 1))))}`;

export async function recordedDefinitions(redis: Redis, keys: SegmentKeys): Promise<Map<string, RecordedDefinition>> {
  const h = await redis.hgetall(keys.defs);
  return new Map(Object.entries(h).map(([id, v]) => [id, JSON.parse(v) as RecordedDefinition]));
}

/** Records the loaded definitions; returns the ids that are new or changed since they were last backfilled. */
export async function recordDefinitions(
  redis: Redis,
  keys: SegmentKeys,
  defs: readonly SegmentDefinition[],
  backfilled: ReadonlySet<string> = new Set(),
): Promise<string[]> {
  const before = await recordedDefinitions(redis, keys);
  const stale: string[] = [];
  for (const def of defs) {
    const prev = before.get(def.id);
    const fingerprint = fingerprintOf(def);
    // At the very first start there is nothing to backfill: every profile the segmenter sees is evaluated anyway.
    const backfilledNow = backfilled.has(def.id) || before.size === 0;
    const rec: RecordedDefinition = {
      version: def.version,
      name: def.name,
      params: { ...def.params },
      fingerprint,
      backfilled: backfilledNow ? fingerprint : (prev?.backfilled ?? null),
    };
    await redis.hset(keys.defs, def.id, JSON.stringify(rec));
    if (rec.backfilled !== fingerprint) stale.push(def.id);
  }
  return stale;
}

/** A removed definition, once its members have exited, is no longer recorded. */
export async function forgetDefinition(redis: Redis, keys: SegmentKeys, id: string): Promise<void> {
  await redis.hdel(keys.defs, id);
}
