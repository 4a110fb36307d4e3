/**
 * Gates between the store's round trips. Every step that talks to Redis first awaits the gate with its name, so a
 * test can pause one resolver or merge between any two round trips (and run others meanwhile), or make it fail
 * there as a crash would. Production code passes none.
 */
export type GateStep =
  | 'resolve' // before the identity script decides a chunk
  | 'merge:prepare' // before the survivor is told to wait for the merged profile
  | 'merge:seal' // before the merged profile is sealed (alias set, data final)
  | 'merge:copy-seen' // before a page of the merged profile's de-duplication window is copied
  | 'merge:absorb' // before the merged document is joined into the survivor
  | 'merge:cleanup' // before the merged profile's data is removed
  | 'fold' // before events are folded into a profile
  | 'journal:done' // before completed merges leave the journal
  | 'erase:freeze' // before an erase's profiles stop owning identifiers (erase.ts)
  | 'erase:tombstone' // before the erased profiles' tombstones are set
  | 'erase:forget' // before their identity index entries are removed
  | 'erase:delete'; // before their profile keys are deleted

export interface GateInfo {
  /** The profile the step works on (the survivor, the merged profile, or the fold's target). */
  profile?: string;
  merged?: string;
  survivor?: string;
}

export type Gate = (step: GateStep, info: GateInfo) => void | Promise<void>;

export const openGate: Gate = () => undefined;
