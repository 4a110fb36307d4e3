/**
 * The merge executor: moves a merged profile's data into its survivor after the identity index decided the merge
 * (identity.ts). Every step is one script on one profile's slot and idempotent, so any process can run or resume any
 * merge at any point (a stitcher that crashed half-way, a fold that finds its profile waiting, a sweep):
 *   prepare(survivor) → seal(merged) → copy the seen window (paged) → absorb(survivor) → cleanup(merged).
 * A survivor sealed meanwhile (merged further) is followed to its own survivor; a merged profile that still waits
 * for merges into it completes those first.
 */
import type { Redis } from 'ioredis';
import { ProfileError } from '../errors.ts';
import { scriptCommand, type ScriptCall } from './commands.ts';
import { openGate, type Gate } from './gate.ts';
import type { KeySpace } from './keys.ts';
import { ABSORB_SCRIPT, CLEANUP_SCRIPT, COPY_SEEN_SCRIPT, FOLD_SCRIPT, JOIN_PRELUDE, PREPARE_SCRIPT, SEAL_SCRIPT, UNPREPARE_SCRIPT } from './scripts.ts';

type Reply = (string | number)[];

/** The profile scripts on one Redis client. */
export interface ProfileScripts {
  fold: ScriptCall<Reply>;
  prepare: ScriptCall<Reply>;
  seal: ScriptCall<Reply>;
  unprepare: ScriptCall<number>;
  copySeen: ScriptCall<number>;
  absorb: ScriptCall<Reply>;
  cleanup: ScriptCall<number>;
}

export function profileScripts(redis: Redis): ProfileScripts {
  return {
    fold: scriptCommand(redis, 'psFold3', FOLD_SCRIPT, 7),
    prepare: scriptCommand(redis, 'psPrepare', PREPARE_SCRIPT, 7),
    seal: scriptCommand(redis, 'psSeal', SEAL_SCRIPT, 7),
    unprepare: scriptCommand(redis, 'psUnprepare', UNPREPARE_SCRIPT, 7),
    copySeen: scriptCommand(redis, 'psCopySeen', COPY_SEEN_SCRIPT, 7),
    absorb: scriptCommand(redis, 'psAbsorb', ABSORB_SCRIPT, 7, { prelude: JOIN_PRELUDE }),
    cleanup: scriptCommand(redis, 'psCleanup', CLEANUP_SCRIPT, 7),
  };
}

/** Pairs of the seen window copied per round trip (bounded script arguments, whatever the window's size). */
export const SEEN_PAGE = 500;
const MAX_ROUNDS = 64;

export interface MergerOptions {
  redis: Redis;
  keys: KeySpace;
  scripts: ProfileScripts;
  gate?: Gate;
}

export class Merger {
  private readonly redis: Redis;
  private readonly keys: KeySpace;
  private readonly s: ProfileScripts;
  private readonly gate: Gate;

  constructor(o: MergerOptions) {
    this.redis = o.redis;
    this.keys = o.keys;
    this.s = o.scripts;
    this.gate = o.gate ?? openGate;
  }

  /**
   * Completes the merge of `merged` into `survivor` (or into whatever `survivor` was merged into since). Returns the
   * profile that holds the merged data afterwards. Safe to run concurrently with itself and after a crash anywhere.
   */
  async complete(merged: string, survivor: string, depth = 0): Promise<string> {
    if (depth > 32) throw new ProfileError('identity_contention', `merge chain deeper than 32 at ${merged}`);
    let s = survivor;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      await this.gate('merge:prepare', { survivor: s, merged });
      const p = await this.s.prepare(this.keys.profileArgs(s), [merged]);
      if (p[0] === 'moved') {
        s = String(p[1]);
        continue;
      }
      // An erased survivor absorbs nothing (erase.ts lets no merge into or out of an erased profile be decided).
      if (p[0] === 'erased') return s;
      if (p[0] === 'done') {
        // Absorbed already; the process that did it may have stopped before the cleanup.
        await this.gate('merge:cleanup', { survivor: s, merged });
        await this.s.cleanup(this.keys.profileArgs(merged), []);
        return s;
      }
      await this.gate('merge:seal', { survivor: s, merged });
      const sealed = await this.s.seal(this.keys.profileArgs(merged), [s]);
      if (sealed[0] === 'erased') {
        await this.s.unprepare(this.keys.profileArgs(s), [merged]);
        return s;
      }
      if (sealed[0] === 'busy') {
        for (const k of sealed.slice(1)) await this.complete(String(k), merged, depth + 1);
        continue;
      }
      const [, alias, doc, seenSize, ...absorbed] = sealed as [string, string, string, number, ...string[]];
      if (alias !== s) {
        // Sealed towards another survivor before (whose own preparation holds it): not pending here.
        await this.s.unprepare(this.keys.profileArgs(s), [merged]);
        s = alias;
      }
      if (Number(seenSize) > 0) await this.copySeen(merged, s);
      await this.gate('merge:absorb', { survivor: s, merged });
      await this.s.absorb(this.keys.profileArgs(s), [merged, doc, ...absorbed]);
      await this.gate('merge:cleanup', { survivor: s, merged });
      await this.s.cleanup(this.keys.profileArgs(merged), []);
      return s;
    }
    throw new ProfileError('identity_contention', `merge of ${merged} into ${survivor} did not settle in ${MAX_ROUNDS} rounds`);
  }

  /** The sealed (so final) seen window of `merged`, copied into `survivor` page by page. */
  private async copySeen(merged: string, survivor: string): Promise<void> {
    const from = this.keys.profile(merged).seen;
    for (let start = 0; ; start += SEEN_PAGE) {
      await this.gate('merge:copy-seen', { survivor, merged });
      const page = await this.redis.zrange(from, start, start + SEEN_PAGE - 1, 'WITHSCORES');
      if (page.length === 0) return;
      const pairs: string[] = [];
      for (let i = 0; i < page.length; i += 2) pairs.push(page[i + 1]!, page[i]!);
      if ((await this.s.copySeen(this.keys.profileArgs(survivor), [merged, ...pairs])) === 0) return;
      if (page.length < SEEN_PAGE * 2) return;
    }
  }
}
