export { CONSENT_PURPOSES, FIELD_CATALOGUE, fieldType } from './catalogue.ts';
export type { FieldType } from './catalogue.ts';
export { parseCondition } from './condition.ts';
export type { Bounds, CompareOp, Condition, Range, Scalar } from './condition.ts';
export { definitionFromValue, expandForEach, parseDefinition, parseDefinitions, type EachOverrides } from './definition.ts';
export type { ParamOverrides, SegmentDefinition } from './definition.ts';
export { DAY_MS, formatDuration, parseDuration } from './duration.ts';
export { SegmentDefinitionError, isSegmentDefinitionError } from './errors.ts';
export type { DefinitionIssue, SegmentErrorCode } from './errors.ts';
export { blockedByConsent, candidates, conditionOf, evaluate, evaluateAll, holds, traitsOf } from './evaluate.ts';
export type { Evaluation, ViewOrFacts } from './evaluate.ts';
export { decisiveLeaves, explain } from './explain.ts';
export type { Explanation, LeafExplanation } from './explain.ts';
export { factsOf } from './facts.ts';
export type { Facts, PurchaseFact } from './facts.ts';
export { loadDefinitions } from './load.ts';
export type { LoadOptions } from './load.ts';
export { DEFAULT_RFM_MODEL, rfmChanges, rfmModelSchema, rfmScores } from './rfm.ts';
export type { RfmModel, RfmScores } from './rfm.ts';
export {
  breakpointsFrom,
  followsSharedModel,
  modelOf,
  populationModel,
  recencyBreakpointsFrom,
  rfmVersionSchema,
  versionDoc,
  withRfmModel,
} from './rfm-population.ts';
export type { PopulationModel, PopulationQuintiles, RfmVersion } from './rfm-population.ts';
export { RFM_VERSIONS_KEPT, RfmVersions } from './rfm-versions.ts';
export type { RfmRedis } from './rfm-versions.ts';
export {
  ACCOUNT_SEGMENT_DEFAULTS,
  ACCOUNT_SEGMENTS,
  accountChanges,
  accountMemberships,
  nextAccountInstant,
  type AccountMembershipChange,
  type AccountSegment,
  type AccountSegmentParams,
} from './accounts.ts';
