/**
 * The stitcher's batch handler. Phase 1, per key in offset order: prepare the event and resolve its
 * profile (identity depends on order within a key). Phase 2, per profile: fold all of the chunk's events of
 * that profile in one atomic script (the fold is order-independent, so grouping is safe). Phase 3: publish
 * profile-changes and profile-merged, acknowledged before the handler returns (and so before the commit).
 */
import {
  asRedisError, dlq, ok, perKey, type BatchHandler, type KitMessage, type Logger, type Outcome, type Producer,
} from '@profile-stream/consumer-kit';
import type { ContractsRegistry, TopicTable } from '@profile-stream/contracts';
import { eventFragment, type NormalisedIds, type ProfileStore, type Resolution } from '@profile-stream/profile';
import type { ResolutionCache } from './resolution-cache.ts';
import type { InputTopicId } from './config.ts';
import type { StitcherMetrics } from './metrics.ts';
import { isPrepared, type Prepared } from './steps/prepare.ts';
import { profileChangeRecords, profileMergedRecords, type ChangeInput } from './steps/publish.ts';

export interface HandlerDeps {
  topicId: InputTopicId;
  prepare: (m: KitMessage) => Promise<Prepared | Outcome>;
  store: ProfileStore;
  /** Identity resolution, cached by identifier set across chunks. */
  resolutions: ResolutionCache;
  registry: ContractsRegistry;
  topics: TopicTable;
  producer: Producer;
  metrics: StitcherMetrics;
  log: Logger;
  now: () => number;
}

interface Resolved { index: number; p: Prepared; resolution: Resolution; fragment: object }

/** The identifiers the event really attached (those over a profile limit are left out of its fragment). */
function attached(ids: NormalisedIds, r: Resolution): NormalisedIds {
  if (r.dropped.length === 0) return ids;
  const out = { ...ids };
  for (const x of r.dropped) delete out[x.type];
  return out;
}

export function stitcherHandler(d: HandlerDeps): BatchHandler {
  return async (messages, ctx) => {
    const resolved: Resolved[] = [];
    const index = new Map(messages.map((m, i) => [m, i]));
    const outcomes = await perKey(async (m) => {
      const p = await d.prepare(m);
      if (!isPrepared(p)) return p;
      try {
        const { dropped: _dropped, ...present } = p.ids;
        const resolution = await d.resolutions.resolve(present);
        const fragment = eventFragment(d.topicId, p.event as never, attached(p.ids, resolution));
        resolved.push({ index: index.get(m)!, p, resolution, fragment });
        return ok();
      } catch (err) {
        throw asRedisError(err);
      }
    })(messages, ctx);

    // Phase 2: fold per profile. Merges may have moved profiles: fold into each resolution's root.
    const groups = new Map<string, Resolved[]>();
    for (const r of resolved) {
      const g = groups.get(r.resolution.profileId);
      if (g) g.push(r);
      else groups.set(r.resolution.profileId, [r]);
    }
    const changes: ChangeInput[] = [];
    const mergeItems: Parameters<typeof profileMergedRecords>[2] = [];
    try {
      await Promise.all([...groups].map(async ([pid, rs]) => {
        const fold = await d.store.fold(pid, rs.map((r) => ({ event_id: r.p.event.event_id, occurred_at: r.p.event.occurred_at, fragment: r.fragment })));
        const late = new Set(fold.tooLate);
        for (const r of rs) {
          if (late.has(r.p.event.event_id)) {
            outcomes[r.index] = dlq('too_late', `occurred_at ${new Date(r.p.event.occurred_at).toISOString()} is older than profile ${fold.profileId}'s newest event minus the de-duplication window`);
            d.metrics.folded.inc({ result: 'too_late' });
          }
        }
        d.metrics.folded.inc({ result: 'applied' }, fold.applied);
        d.metrics.folded.inc({ result: 'duplicate' }, fold.duplicates);
        if (fold.applied + fold.duplicates === 0) return;
        const last = rs.reduce((a, b) => (b.p.event.occurred_at > a.p.event.occurred_at ? b : a));
        const sections = [...new Set(rs.flatMap((r) => Object.keys(r.fragment)))].filter((s) => s !== 'hw').sort();
        changes.push({ fold, triggerEventId: last.p.event.event_id, occurredAt: last.p.event.occurred_at, sections, mergedIds: fold.mergedIds });
      }));
    } catch (err) {
      throw asRedisError(err);
    }
    for (const r of resolved) {
      if (r.resolution.created) d.metrics.profilesCreated.inc();
      for (const merge of r.resolution.merges) mergeItems.push({ merge, triggerEventId: r.p.event.event_id, occurredAt: r.p.event.occurred_at });
      for (const refusal of r.resolution.refused) mergeItems.push({ refusal, triggerEventId: r.p.event.event_id, occurredAt: r.p.event.occurred_at });
    }
    for (const x of mergeItems) {
      d.metrics.merges.inc({ outcome: x.merge ? 'merged' : 'refused' });
      const entry: Record<string, string> = x.merge
        ? { outcome: 'merged', survivor: x.merge.survivor, merged: x.merge.merged, matched_on: x.merge.matchedOn, trigger: x.triggerEventId }
        : { outcome: 'refused', target: x.refusal!.target, other: x.refusal!.other, matched_on: x.refusal!.matchedOn, reason: x.refusal!.reason, trigger: x.triggerEventId };
      if (!x.merge) d.log.info(entry, 'merge refused');
      await d.store.logMerge(entry).catch((err: unknown) => { throw asRedisError(err); });
    }

    // Phase 3: publish, acknowledged before the offsets move.
    const now = d.now();
    const topicMessages = [];
    if (changes.length) topicMessages.push(await profileChangeRecords(d.registry, d.topics, messages[0]!.topic, changes, now));
    if (mergeItems.length) topicMessages.push(await profileMergedRecords(d.registry, d.topics, mergeItems, now));
    if (topicMessages.length) await d.producer.sendBatch({ acks: -1, topicMessages });
    return outcomes;
  };
}
