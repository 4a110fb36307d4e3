/**
 * What this process last wrote of each member's membership state, so that an evaluation sends APPLY only the decisions
 * that change something (scripts.ts). Most of a profile's ~30 decisions repeat what is stored: sending, parsing and
 * comparing them all was most of APPLY's cost and of the segmenter's Redis traffic (issue 12).
 *
 * Safe with other writers (another segmenter instance after a rebalance, a backfill, a retire): a partial evaluation
 * names the write count it was planned on, and APPLY refuses it ('recheck') unless the state is still at that count;
 * the store then sends the whole evaluation. A decision's signature is what APPLY compares: membership, definition
 * version and next change (its reason, time and traits matter only when the membership changes, and then it is sent).
 */
import type { Decision, Evaluation } from './records.ts';

/** What APPLY is sent for one evaluation. */
export interface Planned {
  /** '' = the whole evaluation, no check; '0' = planned on no state at all; otherwise the write count planned on. */
  expect: string;
  decisions: readonly Decision[];
  /** The signature of every decision of the evaluation: what the state holds once it is applied. */
  sigs: string[];
}

interface Entry {
  w: number;
  segments: readonly string[];
  sigs: string[];
}

const sig = (d: Decision): string => `${d.member ? 1 : 0}|${d.definitionVersion}|${d.nextChangeAt === null ? '' : Math.round(d.nextChangeAt)}`;

export class WrittenStates {
  private readonly entries = new Map<string, Entry>();
  private readonly max: number;

  /** `max` members remembered (the least recently written are forgotten: their next evaluation is sent whole). */
  constructor(max = 20_000) {
    this.max = max;
  }

  /**
   * The decisions to send for `e`. Remembered: those whose signature differs from what was written. A profile's first
   * change (version 1, caused by an event) with nothing remembered: planned on no state, so only memberships and
   * schedules (a never-member that stays out writes nothing). Otherwise the whole evaluation.
   */
  plan(e: Evaluation, whole = false): Planned {
    const sigs = e.decisions.map(sig);
    const known = whole ? undefined : this.entries.get(e.pid);
    if (known && sameSegments(known.segments, e.decisions)) {
      return { expect: String(known.w), decisions: e.decisions.filter((_, i) => sigs[i] !== known.sigs[i]), sigs };
    }
    if (!whole && e.profileVersion === 1 && e.trigger !== null) {
      return { expect: '0', decisions: e.decisions.filter((d) => d.member || d.nextChangeAt !== null), sigs };
    }
    return { expect: '', decisions: e.decisions, sigs };
  }

  /** APPLY wrote the evaluation: its state is now at write count `w`. */
  wrote(e: Evaluation, planned: Planned, w: number): void {
    const known = this.entries.get(e.pid);
    if (known && known.w >= w) return; // a later write's reply was taken first
    this.entries.delete(e.pid);
    this.entries.set(e.pid, { w, segments: e.decisions.map((d) => d.segment), sigs: planned.sigs });
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  /** What is remembered of `pid` can no longer be trusted (refused, stale, dead, or written by someone else). */
  forget(pid: string): void {
    this.entries.delete(pid);
  }
}

function sameSegments(segments: readonly string[], decisions: readonly Decision[]): boolean {
  if (segments.length !== decisions.length) return false;
  for (let i = 0; i < segments.length; i++) if (segments[i] !== decisions[i]!.segment) return false;
  return true;
}
