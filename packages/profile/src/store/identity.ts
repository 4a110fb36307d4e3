/**
 * Identity resolution: which profile each event of a chunk belongs to, decided for the whole chunk by ONE script on
 * the identity slot (identity-scripts.ts), so claims, limits, merge decisions and the repoint of a merged profile's
 * identifiers are atomic with respect to every other resolver. Data moves of decided merges are then completed
 * here (merge.ts) before the chunk's events are folded: no event is folded into a survivor whose merges are pending.
 * Decided merges stay in the journal until the caller has announced them (profile-merged) and settles them.
 *
 * Known identifier sets are cached (bounded, two generations: memo.ts's GenerationalCache; the Map-as-LRU it replaced
 * evicted by walking the holes earlier deletions left: 89 µs of CPU per lookup once 200k entries were held, against
 * 0.6–0.9 µs). A cached root may have been merged since, which the fold follows (its alias) and waits for (pending); an
 * entry is cached only once the merges pending into its root are complete. A cached root may have been erased since:
 * the fold refuses it and the store forgets the entry and resolves again (store.ts stitch).
 */
import type { Redis } from 'ioredis';
import { ProfileError } from '../errors.ts';
import { GenerationalCache } from '../memo.ts';
import { scriptCommand, type ScriptCall } from './commands.ts';
import { openGate, type Gate } from './gate.ts';
import { DONE_SCRIPT, PENDING_SCRIPT, RESOLVE_SCRIPT } from './identity-scripts.ts';
import { IDENTIFIER_PRIORITY, type IdentifierType, type KeySpace } from './keys.ts';
import type { Merger } from './merge.ts';

export type Identifiers = Partial<Record<IdentifierType, string>>;
export type Limits = Record<IdentifierType, number>;
export const DEFAULT_LIMITS: Limits = { user_id: 1, email: 5, phone: 5, anonymous_id: 100 };

export interface MergeRecord {
  survivor: string;
  merged: string;
  matchedOn: IdentifierType;
}
export interface RefusalRecord {
  target: string;
  other: string;
  matchedOn: IdentifierType;
  reason: string;
}

export interface Resolution {
  /** The live root the event is folded into. */
  profileId: string;
  created: boolean;
  /** Merges this event decided (announced through `ResolvedChunk.merges`). */
  merges: MergeRecord[];
  refused: RefusalRecord[];
  /** Identifiers not attached because the profile is at its limit for that type. */
  dropped: { type: IdentifierType; reason: string }[];
}

/** A merge decided in the identity index: the journal entry, until its data move is complete and announced. */
export interface PendingMerge {
  merged: string;
  /** The survivor when the merge was decided, and the root that holds the merged data now. */
  survivor: string;
  root: string;
  matchedOn: IdentifierType;
  triggerEventId: string;
  occurredAt: number;
  decidedAt: number;
}

export interface ResolveItem {
  ids: Identifiers;
  /** The event that may cause a merge (kept in the journal and the merge log). */
  eventId?: string;
  occurredAt?: number;
}

export interface ResolvedChunk {
  resolutions: Resolution[];
  /** Merges into this chunk's roots, complete now, to announce and then settle(). */
  merges: PendingMerge[];
}

export interface ResolverOptions {
  redis: Redis;
  keys: KeySpace;
  merger: Merger;
  /** A time-ordered, random base for the ids of the profiles one resolve call creates (the script adds a counter). */
  profileIdBase: () => string;
  now: () => number;
  limits?: Limits;
  gate?: Gate;
  /** Identifier sets whose root is kept in memory (0 = none). */
  cacheSize?: number;
}

interface ScriptEvent {
  pid: string;
  c?: boolean;
  m?: [string, string, IdentifierType][];
  r?: [string, IdentifierType, string][];
  d?: IdentifierType[];
}
interface JournalEntry {
  merged: string;
  survivor: string;
  root: string;
  on: IdentifierType;
  trigger: string;
  at: string;
  decided: string;
}

const toPending = (j: JournalEntry): PendingMerge => ({
  merged: j.merged,
  survivor: j.survivor,
  root: j.root,
  matchedOn: j.on,
  triggerEventId: j.trigger,
  occurredAt: Number(j.at),
  decidedAt: Number(j.decided),
});

/** Identifier sets per identity script call (a chunk's misses go in calls of at most this many, in order). */
export const RESOLVE_CALL_SETS = 250;

const signature = (ids: Identifiers): string => IDENTIFIER_PRIORITY.map((t) => ids[t] ?? '').join('\u0000');

export class IdentityResolver {
  private readonly redis: Redis;
  private readonly keys: KeySpace;
  private readonly merger: Merger;
  private readonly limits: Limits;
  private readonly gate: Gate;
  private readonly profileIdBase: () => string;
  private readonly now: () => number;
  private readonly cacheSize: number;
  private readonly cache: GenerationalCache<string, { profileId: string; dropped: Resolution['dropped'] }> | undefined;
  private readonly resolveScript: ScriptCall<string>;
  private readonly pendingScript: ScriptCall<string>;
  private readonly doneScript: ScriptCall<number>;
  cacheHits = 0;
  cacheMisses = 0;

  constructor(o: ResolverOptions) {
    this.redis = o.redis;
    this.keys = o.keys;
    this.merger = o.merger;
    this.limits = o.limits ?? DEFAULT_LIMITS;
    this.gate = o.gate ?? openGate;
    this.profileIdBase = o.profileIdBase;
    this.now = o.now;
    this.cacheSize = o.cacheSize ?? 0;
    this.cache = this.cacheSize > 0 ? new GenerationalCache(Math.max(2, this.cacheSize)) : undefined;
    for (const t of IDENTIFIER_PRIORITY) {
      if (!Number.isInteger(this.limits[t]) || this.limits[t] < 1)
        throw new ProfileError('invalid_options', `limits.${t} must be an integer >= 1`, { path: `limits.${t}` });
    }
    this.resolveScript = scriptCommand(o.redis, 'psResolve', RESOLVE_SCRIPT, 1);
    this.pendingScript = scriptCommand(o.redis, 'psPending', PENDING_SCRIPT, 1);
    this.doneScript = scriptCommand(o.redis, 'psDone', DONE_SCRIPT, 1);
  }

  /**
   * Resolves a chunk's identifier sets in order (identity depends on order), then completes every merge pending
   * into the chunk's roots. Resolutions come back in the items' order.
   */
  async resolveMany(items: readonly ResolveItem[]): Promise<ResolvedChunk> {
    const resolutions: Resolution[] = new Array(items.length);
    // Identifier sets not in the cache, each once (a second resolution of a set in the same chunk changes nothing).
    const misses = new Map<string, number[]>();
    items.forEach((item, i) => {
      if (!IDENTIFIER_PRIORITY.some((t) => item.ids[t] !== undefined)) throw new ProfileError('no_identifier', 'resolve() needs at least one identifier');
      const sig = signature(item.ids);
      const hit = this.cache?.get(sig);
      if (hit) {
        this.cacheHits++;
        resolutions[i] = { profileId: hit.profileId, created: false, merges: [], refused: [], dropped: hit.dropped };
      } else {
        this.cacheMisses++;
        const same = misses.get(sig);
        if (same) same.push(i);
        else misses.set(sig, [i]);
      }
    });
    if (misses.size === 0) return { resolutions, merges: [] };

    const now = this.now();
    // In calls of at most RESOLVE_CALL_SETS sets, one after another (each atomic, each seeing the ones before: the
    // same as smaller chunks): one call for a whole fetch's chunk kept Redis from answering anyone else for up to
    // 200 ms under load (issue 12).
    const sets = [...misses.values()];
    const events: ScriptEvent[] = [];
    /** Per merged profile (merged once, into one survivor): a later call's report of the same merge replaces the earlier one's. */
    const pending = new Map<string, JournalEntry>();
    for (let from = 0; from < sets.length; from += RESOLVE_CALL_SETS) {
      const part = sets.slice(from, from + RESOLVE_CALL_SETS);
      const args: (string | number)[] = [this.keys.index, ...IDENTIFIER_PRIORITY.map((t) => this.limits[t]), now, this.profileIdBase(), part.length];
      for (const [first] of part) {
        const { ids, eventId, occurredAt } = items[first!]!;
        const present = IDENTIFIER_PRIORITY.filter((t) => ids[t] !== undefined);
        args.push(eventId ?? '', occurredAt ?? now, present.length);
        for (const t of present) args.push(this.keys.identifier(t, ids[t]!));
      }
      await this.gate('resolve', {});
      // cjson encodes an empty Lua table as {}: `pending` is {} or an object of lists.
      const reply = JSON.parse(await this.resolveScript([this.keys.journal], args)) as { events: ScriptEvent[]; pending: Record<string, JournalEntry[]> };
      events.push(...reply.events);
      for (const j of Object.values(reply.pending).flat()) pending.set(j.merged, j);
    }
    sets.forEach((indexes, j) => {
      const e = events[j]!;
      indexes.forEach((i, n) => {
        const dropped = (e.d ?? []).map((type) => ({ type, reason: `limit_${type}` }));
        // The set's first event carries what the resolution did; its repeats in the chunk only go to the same profile.
        resolutions[i] =
          n > 0
            ? { profileId: e.pid, created: false, merges: [], refused: [], dropped }
            : {
                profileId: e.pid,
                created: e.c === true,
                merges: (e.m ?? []).map(([survivor, merged, matchedOn]) => ({ survivor, merged, matchedOn })),
                // A refusal's target is the profile the event went to (its root after the chunk).
                refused: (e.r ?? []).map(([other, matchedOn, reason]) => ({ target: e.pid, other, matchedOn, reason })),
                dropped,
              };
      });
    });

    const merges = [...pending.values()].map(toPending);
    await this.completeAll(merges);
    if (this.cache) {
      for (const [sig, [first]] of misses) {
        const r = resolutions[first!]!;
        this.cache.set(sig, { profileId: r.profileId, dropped: r.dropped });
      }
    }
    return { resolutions, merges };
  }

  /**
   * Drops every cached resolution to one of these profiles (erased elsewhere: a cache key holds the identifiers
   * themselves). Returns how many entries went.
   */
  forgetProfiles(profileIds: ReadonlySet<string>): number {
    if (!this.cache || profileIds.size === 0) return 0;
    const before = this.cache.size;
    this.cache.prune((r) => !profileIds.has(r.profileId));
    return before - this.cache.size;
  }

  /** Resolutions cached (both generations), for metrics and tests. */
  get cachedResolutions(): number {
    return this.cache?.size ?? 0;
  }

  /** Drops cached resolutions (their root was erased: the next resolution asks the index). */
  forget(sets: readonly Identifiers[]): void {
    for (const ids of sets) this.cache?.delete(signature(ids));
  }

  /** One identifier set (tests, tools): resolves, completes and settles the merges it decided. */
  async resolve(ids: Identifiers, trigger: { eventId?: string; occurredAt?: number } = {}): Promise<Resolution> {
    const r = await this.resolveMany([{ ids, ...trigger }]);
    await this.settle(r.merges);
    return r.resolutions[0]!;
  }

  /** Completes the data moves of decided merges (per root in order, roots concurrently). */
  async completeAll(merges: readonly PendingMerge[]): Promise<void> {
    const byRoot = new Map<string, PendingMerge[]>();
    for (const m of merges) byRoot.set(m.root, [...(byRoot.get(m.root) ?? []), m]);
    await Promise.all(
      [...byRoot].map(async ([root, ms]) => {
        for (const m of ms.sort((a, b) => a.decidedAt - b.decidedAt)) await this.merger.complete(m.merged, root);
      }),
    );
  }

  /** Completed and announced merges leave the journal. */
  async settle(merges: readonly PendingMerge[]): Promise<void> {
    if (merges.length === 0) return;
    await this.gate('journal:done', {});
    await this.doneScript([this.keys.journal], [this.keys.index, ...new Set(merges.map((m) => m.merged))]);
  }

  /** Journal entries: of merges into the given roots, or every one (a sweep after a crash). */
  async pending(roots?: readonly string[]): Promise<PendingMerge[]> {
    if (roots && roots.length === 0) return [];
    const raw = await this.pendingScript([this.keys.journal], [this.keys.index, ...(roots ?? [])]);
    return (JSON.parse(raw) as JournalEntry[]).map(toPending);
  }

  async owner(type: IdentifierType, value: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.identifier(type, value))) ?? undefined;
  }

  /** The identifiers a root owns, per type (the sets the limits are counted on). */
  async identity(pid: string): Promise<Record<IdentifierType, string[]>> {
    const fields = Object.keys(await this.redis.hgetall(this.keys.owned(pid)));
    return Object.fromEntries(
      IDENTIFIER_PRIORITY.map((t) => [
        t,
        fields
          .filter((f) => f.startsWith(`${t}:`))
          .map((f) => f.slice(t.length + 1))
          .sort(),
      ]),
    ) as Record<IdentifierType, string[]>;
  }
}
