/**
 * Backfill of one definition over every existing profile (a new or changed definition): each profile is read
 * from the profile store and evaluated at `now` by the segmenter's own evaluation (evaluate.ts), so
 * changes get reason `definition_changed` and go out through the outbox. Profiles merged away are skipped; a
 * profile changed meanwhile by the segmenter wins (an evaluation of an older profile version is refused).
 * A definition that no longer exists: its members exit.
 */
import type { ProfileStore } from '@profile-stream/profile';
import type { SegmentDefinition } from '@profile-stream/segments';
import { evaluator } from './evaluate.ts';
import type { MembershipStore } from './store/store.ts';

export interface BackfillProgress {
  done: number;
  total: number;
  /** Profiles evaluated (the others were merged into another one). */
  evaluated: number;
  changed: number;
}

export interface BackfillOptions {
  profiles: ProfileStore;
  memberships: MembershipStore;
  now: () => number;
  onProgress?: (p: BackfillProgress) => void;
  concurrency?: number;
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

/** Evaluates `def` (or several definitions, in one pass) over every profile; returns how many memberships changed. */
export async function backfill(def: SegmentDefinition | readonly SegmentDefinition[], o: BackfillOptions): Promise<BackfillProgress> {
  const ids = await o.profiles.profileIds();
  const progress: BackfillProgress = { done: 0, total: ids.length, evaluated: 0, changed: 0 };
  o.onProgress?.({ ...progress });
  const evaluate = evaluator({ defs: 'id' in def ? [def] : def, memberships: o.memberships, now: o.now });
  await pool(ids, o.concurrency ?? 32, async (pid) => {
    const p = await o.profiles.read(pid);
    if (p !== undefined && p.profileId === pid) {
      const r = await evaluate.profile(p, { kind: 'backfill' }, null);
      progress.evaluated++;
      if (r.kind === 'ok') progress.changed += r.emitted;
    }
    progress.done++;
    if (progress.done % 500 === 0 || progress.done === progress.total) o.onProgress?.({ ...progress });
  });
  return progress;
}

/** A definition that was removed: every member exits (reason definition_changed). */
export async function retireDefinition(id: string, version: number, o: BackfillOptions): Promise<BackfillProgress> {
  const ids = await o.memberships.members(id);
  const progress: BackfillProgress = { done: 0, total: ids.length, evaluated: 0, changed: 0 };
  await pool(ids, o.concurrency ?? 32, async (pid) => {
    const state = await o.memberships.read(pid);
    const r = await o.memberships.apply(pid, state.profileVersion, null, [
      {
        segment: id,
        definitionVersion: version,
        member: false,
        reason: 'definition_changed',
        occurredAt: o.now(),
        nextChangeAt: null,
        traits: {},
      },
    ]);
    progress.evaluated++;
    if (r.kind === 'ok') progress.changed += r.emitted;
    progress.done++;
    o.onProgress?.({ ...progress });
  });
  return progress;
}
