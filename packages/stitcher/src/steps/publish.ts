/** The records a chunk publishes: one profile-changes record per folded profile, and profile-merged records. */
import type { ContractsRegistry, TopicTable } from '@profile-stream/contracts';
import { profileViewJson } from '@profile-stream/profile';
import type { FoldResult, MergeRecord, PendingMerge, RefusalRecord, Resolution } from '@profile-stream/profile';

export interface OutRecord {
  topic: string;
  messages: { key: string; value: Buffer }[];
}

export interface ChangeInput {
  fold: Pick<FoldResult, 'profileId' | 'version' | 'doc'>;
  triggerEventId: string;
  occurredAt: number;
  sections: string[];
  mergedIds: string[];
  /**
   * 'event' (a chunk's events folded), 'merge' (merged profiles absorbed, announced by the sweep), 'consent' (a
   * consent change made through the profile API) or 'predict' (scores written by `profile-stream predict score`).
   */
  cause?: 'event' | 'merge' | 'consent' | 'predict';
  /** The input topic of the trigger event; none for a change no input event caused (a merge sweep, consent, predict). */
  sourceTopic?: string;
}

// Both record builders below give every schema field (nullable ones as null, times as epoch ms), so they are encoded
// with encodeTrusted: no plain-JSON normalisation pass, avsc still type-checks every field while writing.

/** The change's id is stable across replays: a re-processed chunk republishes the same id (consumers de-duplicate). */
export async function profileChangeRecords(registry: ContractsRegistry, topics: TopicTable, changes: ChangeInput[], now: number) {
  const topic = topics['profile-changes'].topic;
  const messages = await Promise.all(
    changes.map(async (c) => ({
      key: c.fold.profileId,
      value: await registry.encodeTrusted(topic, {
        event_id: `${c.fold.profileId}:v${c.fold.version}`,
        profile_id: c.fold.profileId,
        profile_version: c.fold.version,
        cause: c.cause ?? 'event',
        trigger_event_id: c.triggerEventId,
        source_topic: c.sourceTopic ?? null,
        changed_sections: c.sections,
        occurred_at: c.occurredAt,
        emitted_at: now,
        profile_json: profileViewJson(c.fold.doc as never, { profile_id: c.fold.profileId, merged_ids: c.mergedIds }),
      }),
    })),
  );
  return { topic, messages };
}

export interface MergeItem {
  merge?: MergeRecord;
  refusal?: RefusalRecord;
  triggerEventId: string;
  occurredAt: number;
}

/**
 * What a chunk announces on profile-merged: every completed merge from the identity journal (decided by this chunk,
 * or by a process that stopped before announcing it) and every refusal this chunk's events met.
 */
export function mergeItems(
  merges: readonly PendingMerge[],
  resolved: readonly { resolution: Resolution; triggerEventId: string; occurredAt: number }[],
): MergeItem[] {
  const items: MergeItem[] = merges.map((m) => ({
    merge: { survivor: m.survivor, merged: m.merged, matchedOn: m.matchedOn },
    triggerEventId: m.triggerEventId,
    occurredAt: m.occurredAt,
  }));
  for (const r of resolved) {
    for (const refusal of r.resolution.refused) items.push({ refusal, triggerEventId: r.triggerEventId, occurredAt: r.occurredAt });
  }
  return items;
}

export async function profileMergedRecords(registry: ContractsRegistry, topics: TopicTable, items: readonly MergeItem[], now: number) {
  const topic = topics['profile-merged'].topic;
  const messages = await Promise.all(
    items.map(async (x) => {
      const [profileId, other, outcome, matchedOn, reason] = x.merge
        ? [x.merge.survivor, x.merge.merged, 'merged', x.merge.matchedOn, null]
        : [x.refusal!.target, x.refusal!.other, 'refused', x.refusal!.matchedOn, x.refusal!.reason];
      return {
        key: profileId,
        value: await registry.encodeTrusted(topic, {
          event_id: `${outcome}:${profileId}<${other}:${x.triggerEventId}`,
          profile_id: profileId,
          merged_profile_id: other,
          outcome,
          matched_on: matchedOn,
          reason,
          trigger_event_id: x.triggerEventId,
          occurred_at: x.occurredAt,
          emitted_at: now,
        }),
      };
    }),
  );
  return { topic, messages };
}
