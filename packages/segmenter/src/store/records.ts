/**
 * What the membership store takes and gives: a decision (the wanted membership of one segment after an evaluation),
 * the stored membership state of a profile, the result of applying decisions, and the membership event an outbox
 * entry holds (its id derived, stable across replays and relays).
 */

export type MembershipReason =
  | 'rule_matched'
  | 'rule_unmatched'
  | 'time_elapsed'
  | 'profile_merged'
  | 'profile_erased'
  | 'consent_withdrawn'
  | 'definition_changed';

/** The wanted membership of one segment after an evaluation. */
export interface Decision {
  segment: string;
  definitionVersion: number;
  member: boolean;
  /** The reason if this is a change (the script knows whether it is). */
  reason: MembershipReason;
  /** When the change happened (clamped by the script to not before the segment's previous change). */
  occurredAt: number;
  /** The next instant the answer flips by the clock, or null. */
  nextChangeAt: number | null;
  traits: Record<string, string>;
}

export interface StoredMembership {
  member: boolean;
  version: number;
  definitionVersion: number;
  occurredAt: number;
}

export interface MembershipState {
  /** The profile version last evaluated (-1: never). */
  profileVersion: number;
  dead: string | null;
  segments: Map<string, StoredMembership>;
  due: Map<string, number>;
}

/** The decisions of one evaluation of a member (a profile, or `account:<id>`) at its profile version. */
export interface Evaluation {
  pid: string;
  /** The profile version evaluated (an account's: the evaluation time); an older one than stored is refused as stale. */
  profileVersion: number;
  /** The trigger event id, or null. */
  trigger: string | null;
  decisions: readonly Decision[];
}

export type ApplyResult = { kind: 'ok'; emitted: number } | { kind: 'stale'; profileVersion: number } | { kind: 'dead'; dead: string };

/** An outbox entry: a membership event without emitted_at (the relay stamps it). */
export interface OutboxEvent {
  profile_id: string;
  segment_id: string;
  segment_version: number;
  change: 'entered' | 'exited';
  reason: MembershipReason;
  membership_version: number;
  occurred_at: number;
  trigger_event_id: string | null;
  traits: Record<string, string>;
}

export interface OutboxEntry {
  id: string;
  event: OutboxEvent;
}

/** The event id is derived from profile, segment and membership version: stable across replays and relays. */
export const membershipEventId = (e: Pick<OutboxEvent, 'profile_id' | 'segment_id' | 'membership_version'>) =>
  `${e.profile_id}:${e.segment_id}:m${e.membership_version}`;
