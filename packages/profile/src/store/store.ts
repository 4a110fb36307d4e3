/**
 * ProfileStore: customer profiles in Redis. The identity index decides which profile an event belongs to
 * (`resolver`, identity.ts), the merge executor moves merged profiles' data (`merger`, merge.ts), and folding a
 * batch of events into one profile is one atomic script that follows a merged profile's alias and waits for (helps
 * complete) merges pending into it. The invariants and how they are tested: packages/profile/README.md.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { joinAll } from '../join.ts';
import { GenerationalCache } from '../memo.ts';
import { OneAtATime } from './one-at-a-time.ts';
import type { ProfileDoc } from '../doc.ts';
import { isProfileError, ProfileError } from '../errors.ts';
import { forgetPhoneSpellings } from '../normalise.ts';
import { Eraser, type EraseRequest, type Erasure } from './erase.ts';
import { openGate, type Gate } from './gate.ts';
import { IdentityResolver, type Identifiers, type Limits, type PendingMerge, type Resolution } from './identity.ts';
import { keySpace, type IdentifierType, type KeySpace } from './keys.ts';
import { Merger, profileScripts, type ProfileScripts } from './merge.ts';
import type { ParsedRef } from '../ref.ts';
import { scanKeys } from './scan.ts';

export interface StoredEvent {
  event_id: string;
  occurred_at: number;
  fragment: object;
}

export interface FoldResult {
  /** The live profile the events went to (the one asked for, or its survivor). */
  profileId: string;
  version: number;
  applied: number;
  duplicates: number;
  /** The profile document after the fold, and the profiles merged into it. */
  doc: Record<string, unknown>;
  mergedIds: string[];
}

export interface StoredProfile {
  profileId: string;
  doc: Record<string, unknown>;
  version: number;
  mergedIds: string[];
  createdAt: number | undefined;
}

export interface ProfileStoreOptions {
  redis: Redis;
  prefix?: string;
  /**
   * De-duplication window (ms), measured on arrival: an event id is remembered this long after it was applied, so a
   * redelivery or replay within it changes nothing. Keep it longer than the input topics' retention.
   */
  windowMs: number;
  now?: () => number;
  limits?: Limits;
  /** Identifier sets whose resolution is cached in memory (0 = none). */
  identityCacheSize?: number;
  /**
   * Profiles whose document this store last wrote kept in memory, with their version (0 = none): the next fold of
   * such a profile joins onto it with no read. Safe with any number of writers: the fold script writes only if the
   * profile is still at that version, and otherwise answers with the document as it is (compare-and-set).
   */
  foldCacheSize?: number;
  /**
   * How long (ms, on the store's clock) a kept document serves as a fold's base (default 300,000). Bounds how long a
   * stitcher's memory holds a profile's document after it was erased elsewhere (the next fold is refused anyway).
   */
  foldCacheTtlMs?: number;
  /** Test hook between round trips (see gate.ts). */
  gate?: Gate;
  /** Told of every round of a fold: where its base came from and what the fold script answered (metrics). */
  onFoldRound?: (base: FoldBaseSource, result: FoldRoundResult) => void;
}

/** Where a fold round's base came from: the caller (a profile just created), this store's memory, a read, a stale reply. */
export type FoldBaseSource = 'known' | 'kept' | 'read' | 'reply';
/** What the fold script answered a round: written, or why it was not (another writer moved the profile on, ...). */
export type FoldRoundResult = 'written' | 'stale' | 'moved' | 'busy' | 'dups' | 'erased';

type Reply = (string | number)[];

/** What a fold joins onto: the profile's document at a version. */
export interface FoldBase {
  version: number;
  doc: ProfileDoc;
}

/** One event of a chunk to stitch: its identifiers and how its fragment follows from its resolution. */
export interface StitchItem {
  ids: Identifiers;
  eventId: string;
  occurredAt: number;
  fragment: (r: Resolution) => object;
}

export interface StitchedChunk {
  /** Per item, in order. */
  resolutions: Resolution[];
  /** Per profile folded: the fold and the indexes of its items. */
  folds: { fold: FoldResult; items: number[] }[];
  /** Completed merges into the chunk's profiles: announce them, then resolver.settle() them. */
  merges: PendingMerge[];
}

/**
 * Profile ids are time-ordered, so the older profile has the smaller id (byte order): p + 9 base-36 time digits + 10
 * hex. This is the base of the ids one identity call creates (p + time + 5 random hex); the script appends a 5-hex
 * counter.
 */
export function profileIdBase(now: number): string {
  return `p${now.toString(36).padStart(9, '0')}${randomBytes(3).toString('hex').slice(0, 5)}`;
}

const MAX_ROUNDS = 64;

/** A profile as read: its document, meta hash and merged-id set. */
function stored(profileId: string, doc: string, meta: Record<string, string>, merged: string[]): StoredProfile {
  const createdAt = meta.created_at ? Number(meta.created_at) : undefined;
  return { profileId, doc: JSON.parse(doc) as Record<string, unknown>, version: Number(meta.version ?? 0), mergedIds: merged.sort(), createdAt };
}

export class ProfileStore {
  readonly keys: KeySpace;
  readonly windowMs: number;
  readonly now: () => number;
  readonly resolver: IdentityResolver;
  readonly merger: Merger;
  /** Erasures: the audit records (erase() is the way in). */
  readonly eraser: Eraser;
  private readonly redis: Redis;
  private readonly scripts: ProfileScripts;
  private readonly gate: Gate;
  /** Per profile: the document and version this store last wrote, and when (documents are never mutated: shared safely). */
  private readonly written: GenerationalCache<string, FoldBase & { at: number }> | undefined;
  private readonly writtenTtlMs: number;
  private readonly onFoldRound: NonNullable<ProfileStoreOptions['onFoldRound']>;
  private readonly folding = new OneAtATime();

  constructor(o: ProfileStoreOptions) {
    if (!(o.windowMs > 0)) throw new ProfileError('invalid_options', 'windowMs must be > 0', { path: 'windowMs' });
    this.redis = o.redis;
    this.keys = keySpace(o.prefix);
    this.windowMs = o.windowMs;
    this.now = o.now ?? Date.now;
    this.written = (o.foldCacheSize ?? 0) >= 2 ? new GenerationalCache(o.foldCacheSize!) : undefined;
    this.writtenTtlMs = o.foldCacheTtlMs ?? 300_000;
    // Expired documents leave memory too, not only stop serving: a profile erased elsewhere is held at most ~1.5 TTL.
    if (this.written) setInterval(() => this.pruneKept(), Math.max(1000, this.writtenTtlMs / 2)).unref();
    this.gate = o.gate ?? openGate;
    this.onFoldRound = o.onFoldRound ?? (() => {});
    this.scripts = profileScripts(o.redis);
    this.merger = new Merger({ redis: o.redis, keys: this.keys, scripts: this.scripts, gate: this.gate });
    this.resolver = new IdentityResolver({
      redis: o.redis,
      keys: this.keys,
      merger: this.merger,
      gate: this.gate,
      now: this.now,
      profileIdBase: () => profileIdBase(this.now()),
      cacheSize: o.identityCacheSize ?? 0,
      ...(o.limits ? { limits: o.limits } : {}),
    });
    this.eraser = new Eraser({ redis: o.redis, keys: this.keys, resolver: this.resolver, root: (pid) => this.root(pid), now: this.now, gate: this.gate });
  }

  /**
   * Erases the profile a ref leads to and every profile merged into it (erase.ts): undefined when the ref leads to
   * nothing, live or erased; `already` (with the original record) when it was erased before.
   */
  erase(ref: ParsedRef, req: EraseRequest): Promise<Erasure | undefined> {
    return this.eraser.erase(ref, req);
  }

  /** Follows merge aliases to the live profile. */
  async root(pid: string): Promise<string> {
    let cur = pid;
    for (let hops = 0; hops < 64; hops++) {
      const next = await this.redis.get(this.keys.profile(cur).alias);
      if (!next) return cur;
      cur = next;
    }
    throw new ProfileError('identity_contention', `alias chain too long from ${pid}`);
  }

  /** How many documents are kept in memory as fold bases (an entry in both generations counts twice until the old one goes). */
  keptDocuments(): number {
    return this.written?.size ?? 0;
  }

  /** Drops the kept documents older than their time to live. */
  pruneKept(): void {
    const now = this.now();
    this.written?.prune((k) => now - k.at <= this.writtenTtlMs);
  }

  /**
   * Profiles erased elsewhere (a `profile-erased` record: the root and its merged ids) leave this process's memory:
   * the cached resolutions of their identifiers, their kept documents, and every phone spelling normalisation kept
   * (a phone spelling cannot be told apart by profile). Nothing of them was served after the erase (the fold refuses
   * an erased profile); this is about what stays in memory. Returns how many resolutions and documents went.
   */
  forgetErased(profileIds: readonly string[]): { resolutions: number; documents: number } {
    const ids = new Set(profileIds);
    const before = this.written?.size ?? 0;
    for (const pid of ids) this.written?.delete(pid);
    forgetPhoneSpellings();
    return { resolutions: this.resolver.forgetProfiles(ids), documents: before - (this.written?.size ?? 0) };
  }

  /** What this store last wrote of a profile, if it is still young enough to serve (foldCacheTtlMs). */
  private kept(pid: string): FoldBase | undefined {
    const k = this.written?.get(pid);
    if (k === undefined) return undefined;
    if (this.now() - k.at <= this.writtenTtlMs) return k;
    this.written!.delete(pid);
    return undefined;
  }

  /** A profile's document and version as stored now (compare-and-set base of a fold): one round trip, pipelined. */
  private async base(pid: string): Promise<FoldBase> {
    const k = this.keys.profile(pid);
    const [doc, version] = await Promise.all([this.redis.get(k.doc), this.redis.hget(k.meta, 'version')]);
    return { version: Number(version ?? 0), doc: doc ? (JSON.parse(doc) as ProfileDoc) : {} };
  }

  /**
   * Folds events into a profile, following its alias if it was merged and completing merges pending into it first.
   * The document is joined here (the fragments, then onto the stored document read at a version) and written by one
   * script only if the profile is still at that version; otherwise the script answers with the document as it is now
   * and the join is done again on it. `known`: the caller knows the profile is new (version 0, empty), so no read.
   * Duplicates (in the window) are never applied. A profile erased meanwhile is refused (ProfileError `profile_erased`).
   * One fold of a profile at a time in this store: the next folds onto what it wrote (at once, both would read, one go stale).
   */
  fold(pid: string, events: readonly StoredEvent[], o: { known?: FoldBase } = {}): Promise<FoldResult> {
    return this.folding.run(pid, (waited) => this.foldNow(pid, events, waited ? {} : o));
  }

  private async foldNow(pid: string, events: readonly StoredEvent[], o: { known?: FoldBase }): Promise<FoldResult> {
    const duplicates = new Set<string>();
    let batch = [...new Map(events.map((e) => [e.event_id, e])).values()];
    let target = pid;
    let base = o.known;
    let from: FoldBaseSource = 'known';
    for (let round = 0; round < MAX_ROUNDS; round++) {
      // What this store last wrote of the profile, else a read; a stale guess costs one more round ('stale').
      if (base === undefined) [base, from] = [this.kept(target), 'kept'] as const;
      if (base === undefined) [base, from] = [await this.base(target), 'read'] as const;
      // The stored document and the fragments joined in one pass (joinAll: no copy of the document per event).
      const doc = joinAll([base.doc, ...batch.map((e) => e.fragment as ProfileDoc)]);
      await this.gate('fold', { profile: target });
      const r: Reply = await this.scripts.fold(this.keys.profileArgs(target), [
        this.windowMs,
        this.now(),
        base.version,
        JSON.stringify(doc),
        ...batch.map((e) => e.event_id),
      ]);
      if (r[0] === 'erased') {
        this.written?.delete(target);
        this.onFoldRound(from, 'erased');
        throw new ProfileError('profile_erased', `profile ${target} was erased (${String(r[1])})`, { path: 'profile_id' });
      }
      if (r[0] === 'stale') {
        this.onFoldRound(from, 'stale');
        base = { version: Number(r[1]), doc: r[2] ? (JSON.parse(String(r[2])) as ProfileDoc) : {} };
        from = 'reply';
        continue;
      }
      if (r[0] === 'moved') {
        this.onFoldRound(from, 'moved');
        this.written?.delete(target);
        target = String(r[1]);
        base = undefined;
        continue;
      }
      if (r[0] === 'busy') {
        this.onFoldRound(from, 'busy');
        for (const m of r.slice(1)) await this.merger.complete(String(m), target);
        base = undefined;
        this.written?.delete(target); // the merges' data moved in: its version moved on
        continue;
      }
      if (r[0] === 'dups') {
        this.onFoldRound(from, 'dups');
        for (const id of JSON.parse(String(r[1])) as string[]) duplicates.add(id);
        batch = batch.filter((e) => !duplicates.has(e.event_id));
        continue;
      }
      this.onFoldRound(from, 'written');
      const [, version, applied, ...merged] = r;
      const now = (Number(applied) > 0 ? doc : base.doc) as ProfileDoc;
      this.written?.set(target, { version: Number(version), doc: now, at: this.now() });
      return {
        profileId: target,
        version: Number(version),
        applied: Number(applied),
        duplicates: events.length - Number(applied),
        doc: now as Record<string, unknown>,
        mergedIds: merged.map(String).sort(),
      };
    }
    throw new ProfileError('identity_contention', `fold into ${pid} did not settle in ${MAX_ROUNDS} rounds`);
  }

  /**
   * A chunk of events into their profiles (what a stitcher does between decoding and publishing): identity for the
   * whole chunk in order (one atomic step, merges pending into its profiles completed), then one fold per profile.
   * `resolved` is called between the two (the stitcher times them apart). A profile erased since it was resolved
   * (a cached resolution, or an erase between the two steps) refuses its fold: its events are resolved again without
   * the cache (the index no longer leads to it) and folded into the profile that gives, a new one: one more round
   * trip, only then.
   */
  async stitch(items: readonly StitchItem[], o: { resolved?: () => void } = {}): Promise<StitchedChunk> {
    const { resolutions, merges } = await this.resolver.resolveMany(items);
    o.resolved?.();
    const folds: StitchedChunk['folds'] = [];
    let todo = resolutions.map((_, i) => i);
    for (let round = 0; ; round++) {
      const groups = new Map<string, number[]>();
      for (const i of todo) {
        const group = groups.get(resolutions[i]!.profileId);
        if (group) group.push(i);
        else groups.set(resolutions[i]!.profileId, [i]);
      }
      type Done = { fold: FoldResult; items: number[] } | { erased: number[] };
      const done = await Promise.all(
        [...groups].map(async ([pid, idx]): Promise<Done> => {
          const events = idx.map((i) => ({ event_id: items[i]!.eventId, occurred_at: items[i]!.occurredAt, fragment: items[i]!.fragment(resolutions[i]!) }));
          // A profile this chunk's identity step created has nothing stored yet: no read (a stale guess costs a retry).
          const created = round === 0 && idx.some((i) => resolutions[i]!.created);
          try {
            return { fold: await this.fold(pid, events, created ? { known: { version: 0, doc: {} } } : {}), items: idx };
          } catch (err) {
            if (!isProfileError(err, 'profile_erased') || round >= 2) throw err;
            return { erased: idx };
          }
        }),
      );
      for (const d of done) if ('fold' in d) folds.push(d);
      todo = done.flatMap((d) => ('erased' in d ? d.erased : [])).sort((a, b) => a - b);
      if (todo.length === 0) return { resolutions, folds, merges };
      this.resolver.forget(todo.map((i) => items[i]!.ids));
      const again = await this.resolver.resolveMany(todo.map((i) => items[i]!));
      todo.forEach((i, n) => {
        resolutions[i] = again.resolutions[n]!;
      });
      merges.push(...again.merges);
    }
  }

  /**
   * Reads a profile (the live root, following aliases). With `complete`, merges decided into it whose data move is
   * not finished (a stitcher crashed half-way) are completed first, so the reader sees every merged profile's data.
   */
  async read(pid: string, o: { complete?: boolean } = {}): Promise<StoredProfile | undefined> {
    if (o.complete) {
      // The common case in one round trip: `pid` is a live root with data and nothing merging into it; the reads are
      // sent together, as if it were. Anything else takes the steps below, in order.
      const p = this.keys.profile(pid);
      const [alias, pending, doc, meta, merged] = await Promise.all([
        this.redis.get(p.alias),
        this.resolver.pending([pid]),
        this.redis.get(p.doc),
        this.redis.hgetall(p.meta),
        this.redis.smembers(p.merged),
      ]);
      if (!alias && pending.length === 0 && doc) return stored(pid, doc, meta, merged);
    }
    let root = await this.root(pid);
    if (o.complete) {
      await this.resolver.completeAll(await this.resolver.pending([root]));
      root = await this.root(root);
    }
    const p = this.keys.profile(root);
    const [doc, meta, merged] = await Promise.all([this.redis.get(p.doc), this.redis.hgetall(p.meta), this.redis.smembers(p.merged)]);
    return doc ? stored(root, doc, meta, merged) : undefined;
  }

  /** Ids of the profiles with data (roots, and merged ones not yet cleaned up), sorted. */
  async profileIds(): Promise<string[]> {
    const ids = new Set<string>();
    for (const k of await scanKeys(this.redis, this.keys.profile('*').meta)) {
      const m = /\{([^}]+)\}/.exec(k);
      if (m) ids.add(m[1]!);
    }
    return [...ids].sort();
  }

  /** The live root that owns an identifier (normalised value), if any. */
  owner(type: IdentifierType, value: string): Promise<string | undefined> {
    return this.resolver.owner(type, value);
  }

  /** The identifiers a root owns, per type. */
  identity(pid: string): Promise<Record<IdentifierType, string[]>> {
    return this.resolver.identity(pid);
  }
}
