export { loadSegmenterConfig, ROLES, type Role, type SegmenterConfig } from './config.ts';
export { startSegmenter, type RunningSegmenter } from './build-service.ts';
export { runSegmenterMain } from './main.ts';
export { decide, type Trigger } from './decide.ts';
export { segmenterHandler } from './handler.ts';
export { backfill, retireDefinition, type BackfillProgress } from './backfill.ts';
export { fingerprintOf, recordDefinitions, recordedDefinitions, type RecordedDefinition } from './definitions.ts';
export {
  MembershipStore, membershipEventId, segmentKeys, shardOf,
  type ApplyResult, type Decision, type MembershipReason, type MembershipState, type OutboxEvent, type StoredMembership,
} from './store.ts';
