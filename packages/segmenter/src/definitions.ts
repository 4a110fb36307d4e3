/**
 * The definitions in use, recorded in Redis (`<prefix>seg:defs`) so the CLI can list them with their sizes and
 * a changed definition is noticed: the segmenter logs which ones need `profile-stream segments backfill <id>`.
 */
import type { Redis } from 'ioredis';
import type { SegmentDefinition } from '@profile-stream/segments';
import type { SegmentKeys } from './store.ts';

export interface RecordedDefinition { version: number; name: string; params: Record<string, unknown>; backfilled_version: number | null }

export async function recordedDefinitions(redis: Redis, keys: SegmentKeys): Promise<Map<string, RecordedDefinition>> {
  const h = await redis.hgetall(keys.defs);
  return new Map(Object.entries(h).map(([id, v]) => [id, JSON.parse(v) as RecordedDefinition]));
}

/** Records the loaded definitions; returns the ids that are new or changed since they were last backfilled. */
export async function recordDefinitions(redis: Redis, keys: SegmentKeys, defs: readonly SegmentDefinition[], backfilled: ReadonlySet<string> = new Set()): Promise<string[]> {
  const before = await recordedDefinitions(redis, keys);
  const stale: string[] = [];
  for (const def of defs) {
    const prev = before.get(def.id);
    const done = backfilled.has(def.id) ? def.version : (prev?.backfilled_version ?? null);
    // Shipped with the first start: nothing to backfill yet (there are no profiles the segmenter has not seen).
    const first = before.size === 0;
    const rec: RecordedDefinition = { version: def.version, name: def.name, params: { ...def.params }, backfilled_version: first ? def.version : done };
    await redis.hset(keys.defs, def.id, JSON.stringify(rec));
    if (rec.backfilled_version !== def.version) stale.push(def.id);
  }
  return stale;
}
