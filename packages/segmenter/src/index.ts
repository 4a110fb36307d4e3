export { loadSegmenterConfig, ROLES, SEGMENT_PARAMS_EXAMPLE, SEGMENTER_SETTINGS, type Role, type SegmenterConfig } from './config.ts';
export { startSegmenter, type RunningSegmenter } from './build-service.ts';
export { decide, type Trigger } from './decide.ts';
export { evaluator, viewOf, type EvaluatedProfile, type Evaluator, type EvaluatorDeps } from './evaluate.ts';
export { segmenterHandler } from './handler.ts';
export { backfill, retireDefinition, type BackfillProgress } from './backfill.ts';
export { currentDefinitions, definitionsFor, RfmFollower, type RfmBreakpoints, type RfmFollowerDeps } from './rfm.ts';
export { fingerprintOf, forgetDefinition, recordDefinitions, recordedDefinitions, type RecordedDefinition } from './definitions.ts';
export { MembershipStore } from './store/store.ts';
export { checkShardsAtStart, recordShards, type ShardCheck, type ShardCheckOptions } from './store/placement.ts';
export { segmentKeys, shardOf, type SegmentKeys, type ShardKeys } from './store/keys.ts';
export {
  membershipEventId,
  type ApplyResult,
  type Decision,
  type Evaluation,
  type MembershipReason,
  type MembershipState,
  type OutboxEntry,
  type OutboxEvent,
  type StoredMembership,
} from './store/records.ts';
export { ShardLeases, type LeaseOptions } from './leases.ts';
export { startRelay, type Relay, type RelayDeps } from './relay.ts';
export { createSegmenterMetrics } from './metrics.ts';
