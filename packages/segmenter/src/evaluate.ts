/**
 * One evaluation of a profile: every definition decided over its view at `now` (decide.ts) and the decisions written
 * in one atomic store step (membership changes, their outbox records, the schedule). The one code path from a profile
 * to its memberships: the handler runs it per profile change and scheduled tick, the backfill per profile, and
 * `bench segments` per profile it builds.
 */
import { type HopTimer, untimed } from '@profile-stream/consumer-kit';
import { profileView, type JsonValue, type ProfileDoc, type StoredProfile } from '@profile-stream/profile';
import type { SegmentDefinition } from '@profile-stream/segments';
import { decide, type Trigger } from './decide.ts';
import type { SegmenterMetrics } from './metrics.ts';
import type { ApplyResult, Decision } from './store/records.ts';
import type { MembershipStore } from './store/store.ts';

export interface EvaluatorDeps {
  defs: readonly SegmentDefinition[];
  memberships: MembershipStore;
  now: () => number;
  /** Where the time decide() takes is observed (the service's metrics). */
  metrics?: Pick<SegmenterMetrics, 'evaluateSeconds'>;
}

/** A profile as the profile store gives it: read (StoredProfile) or just folded (FoldResult). */
export type EvaluatedProfile = Pick<StoredProfile, 'profileId' | 'version' | 'doc' | 'mergedIds'>;

/** `hops` times decide and apply (the consume loop's timer for the change's chunk; none outside a service). */
export interface Evaluator {
  /** The decisions over a view at now, without writing them (the handler writes a chunk's in batches: apply-batch.ts). */
  decide(view: JsonValue, trigger: Trigger, hops?: HopTimer): Decision[];
  /** A profile's view as profile-changes carries it (profile_json). */
  view(pid: string, version: number, view: JsonValue, trigger: Trigger, triggerId: string | null, hops?: HopTimer): Promise<ApplyResult>;
  /** A profile from the store: its view is built as the stitcher publishes it, then evaluated. */
  profile(p: EvaluatedProfile, trigger: Trigger, triggerId: string | null, hops?: HopTimer): Promise<ApplyResult>;
}

/** A stored profile's view, as the stitcher publishes it (profile_json). */
export const viewOf = (p: EvaluatedProfile): JsonValue => profileView(p.doc as ProfileDoc, { profile_id: p.profileId, merged_ids: p.mergedIds });

export function evaluator(d: EvaluatorDeps): Evaluator {
  const decideAt: Evaluator['decide'] = (v, trigger, hops = untimed) => {
    const deciding = hops.start('decide');
    const t0 = performance.now();
    const decisions = decide(d.defs, v, d.now(), trigger);
    d.metrics?.evaluateSeconds.observe((performance.now() - t0) / 1000);
    deciding();
    return decisions;
  };
  const view: Evaluator['view'] = async (pid, version, v, trigger, triggerId, hops = untimed) => {
    const decisions = decideAt(v, trigger, hops);
    return hops.time('apply', () => d.memberships.apply(pid, version, triggerId, decisions));
  };
  return {
    decide: decideAt,
    view,
    profile: (p, trigger, triggerId, hops) => view(p.profileId, p.version, viewOf(p), trigger, triggerId, hops),
  };
}
