export { RULES, IDENTITY_LIMITS, SET_LIMITS } from './rules.ts';
export type { LeafKind, RecordRule, Rule } from './rules.ts';
export { cell, cmpCell, cmpStr, cmpValue, compactDoc, emptyDoc } from './doc.ts';
export type {
  Cell,
  CellValue,
  ConsentValue,
  DeviceValue,
  DocObject,
  DocValue,
  FirstTouch,
  OrderDoc,
  PredictionsValue,
  ProfileDoc,
  RankSet,
  Scalar,
  TicketDoc,
} from './doc.ts';
export { join, joinAll, joinValue, joinValues } from './join.ts';
export {
  DEFAULT_JUNK_BLOCKLIST,
  IDENTIFIER_FIELDS,
  forgetPhoneSpellings,
  hasIdentifier,
  normaliseIdentifiers,
  normalisePhone,
  phoneSpellingsKept,
} from './normalise.ts';
export type { DropReason, DroppedIdentifier, IdentifierField, IdentifierFields, NormalisedIds, NormaliseOptions } from './normalise.ts';
export { DEFAULT_MAX_FUTURE_MS, requireIdentifier, validateEvent } from './validate.ts';
export type { EventOf, InputEvent, InputTopic, ValidateOptions } from './validate.ts';
export { ProfileError, isProfileError } from './errors.ts';
export type { ProfileErrorCode, ProfileErrorInit } from './errors.ts';
export { ISO_4217_CODES, isIsoCurrency } from './iso4217.ts';
export { eventFragment, foldEvents, sortUnique } from './fold.ts';
export type { FoldInput } from './fold.ts';
export { MAX_REF_LENGTH, parseRef, PROFILE_ID, REF_TYPES, resolveRef } from './ref.ts';
export type { ParsedRef, ResolvedRef } from './ref.ts';
export { profileView, profileViewJson, purchaseTimeline, ticketOpenTimes } from './view.ts';
export { predictionsFragment, predictionsView } from './predictions.ts';
export type { JsonValue, PurchasePoint, ViewOptions } from './view.ts';
export { LUA_JOIN, LUA_JOIN_SCRIPT, LUA_RULES } from './lua.ts';
export {
  type FoldBaseSource,
  type FoldRoundResult,
  ProfileStore,
  profileIdBase,
  type FoldResult,
  type StitchedChunk,
  type StitchItem,
  type StoredEvent,
  type StoredProfile,
  type ProfileStoreOptions,
} from './store/store.ts';
export {
  IdentityResolver,
  DEFAULT_LIMITS,
  type Identifiers,
  type Limits,
  type MergeRecord,
  type PendingMerge,
  type RefusalRecord,
  type Resolution,
  type ResolvedChunk,
  type ResolveItem,
} from './store/identity.ts';
export { keySpace, IDENTIFIER_PRIORITY, type IdentifierType, type KeySpace, type ProfileKeys } from './store/keys.ts';
export { Merger, SEEN_PAGE } from './store/merge.ts';
export { Eraser, type EraseRequest, type Erasure, type ErasureRecord, type ErasureState } from './store/erase.ts';
export { openGate, type Gate, type GateInfo, type GateStep } from './store/gate.ts';
export { VersionedDocuments, type VersionedDocumentsOptions, type VersionedRedis } from './store/versioned.ts';
export { createRedis } from './store/redis.ts';
export { scriptCommand, type ScriptCall } from './store/commands.ts';
export { loyaltyActivityAt, nextExpiry, pointsBalance } from './loyalty.ts';
export { accountJson, accountView, contactAccount, contactContribution, type AccountView, type Contribution, type ContactAccount } from './account.ts';
export { AccountStore, type AccountApplied, type FoldedContact } from './store/accounts.ts';
export { globEscape, scanKeys } from './store/scan.ts';
