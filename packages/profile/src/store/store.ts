/**
 * ProfileStore: the profile documents in Redis. Folding a batch of events into one profile is one
 * atomic script; merging a profile into another is alias-first (no write lands on the merged profile
 * after its alias is set), then an idempotent join into the survivor.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { join } from '../join.ts';
import type { ProfileDoc } from '../doc.ts';
import { FOLD_SCRIPT, MERGE_SCRIPT, RESERVE_SCRIPT } from './scripts.ts';
import { IDENTIFIER_PRIORITY, keySpace, type IdentifierType, type KeySpace } from './keys.ts';

export interface StoredEvent {
  event_id: string;
  occurred_at: number;
  fragment: object;
}

export interface FoldResult {
  profileId: string;
  version: number;
  applied: number;
  duplicates: number;
  tooLate: string[];
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
  /** De-duplication window (ms): events older than the profile's newest event minus this are `too_late`. */
  windowMs: number;
  now?: () => number;
}

type FoldReply = [string, ...(string | number)[]];

const asList = (x: unknown): string[] => (Array.isArray(x) ? (x as string[]) : []);

/** Time-ordered profile ids: the older profile has the smaller id. */
export function newProfileId(now: number): string {
  return `p${now.toString(36).padStart(9, '0')}${randomBytes(5).toString('hex')}`;
}

export class ProfileStore {
  readonly keys: KeySpace;
  readonly redis: Redis;
  readonly windowMs: number;
  readonly now: () => number;

  constructor(o: ProfileStoreOptions) {
    if (!(o.windowMs > 0)) throw new Error('windowMs must be > 0');
    this.redis = o.redis;
    this.keys = keySpace(o.prefix);
    this.windowMs = o.windowMs;
    this.now = o.now ?? Date.now;
    this.redis.defineCommand('psFold', { numberOfKeys: 4, lua: FOLD_SCRIPT });
    this.redis.defineCommand('psMerge', { numberOfKeys: 4, lua: MERGE_SCRIPT });
    this.redis.defineCommand('psReserve', { numberOfKeys: 2, lua: RESERVE_SCRIPT });
  }

  private k(pid: string): string[] {
    const p = this.keys.profile(pid);
    return [p.doc, p.seen, p.alias, p.meta];
  }

  /** Follows merge aliases to the surviving profile. */
  async root(pid: string): Promise<string> {
    let cur = pid;
    for (let hops = 0; hops < 32; hops++) {
      const next = await this.redis.get(this.keys.profile(cur).alias);
      if (!next) return cur;
      cur = next;
    }
    throw new Error(`alias chain too long from ${pid}`);
  }

  /**
   * Folds events into a profile (following aliases if it was merged meanwhile). Their fragments are joined
   * here and applied in one script call; duplicates and too-late events are reported, never applied.
   */
  async fold(pid: string, events: StoredEvent[]): Promise<FoldResult> {
    const duplicates = new Set<string>();
    const tooLate = new Set<string>();
    let batch = [...new Map(events.map((e) => [e.event_id, e])).values()];
    let target = pid;
    for (let round = 0; round < 64; round++) {
      let acc: ProfileDoc = {};
      for (const e of batch) acc = join(acc, e.fragment as ProfileDoc);
      const args: (string | number)[] = [this.windowMs, this.now(), JSON.stringify(acc)];
      for (const e of batch) args.push(e.event_id, e.occurred_at);
      const r = await (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<FoldReply>>).psFold!(...this.k(target), ...args);
      if (r[0] === 'moved') {
        target = String(r[1]);
        continue;
      }
      if (r[0] === 'exclude') {
        for (const id of JSON.parse(String(r[1])) as string[]) duplicates.add(id);
        for (const id of JSON.parse(String(r[2])) as string[]) tooLate.add(id);
        batch = batch.filter((e) => !duplicates.has(e.event_id) && !tooLate.has(e.event_id));
        continue;
      }
      return {
        profileId: target, version: Number(r[1]), applied: Number(r[2]),
        duplicates: events.length - Number(r[2]) - tooLate.size, tooLate: [...tooLate],
        doc: JSON.parse(String(r[3])) as Record<string, unknown>, mergedIds: asList(JSON.parse(String(r[4]))),
      };
    }
    throw new Error(`fold of ${pid} did not settle (alias chain or constant contention)`);
  }

  /** Reads a profile (the root, following aliases). */
  async read(pid: string): Promise<StoredProfile | undefined> {
    const root = await this.root(pid);
    const p = this.keys.profile(root);
    const [doc, meta] = await Promise.all([this.redis.get(p.doc), this.redis.hgetall(p.meta)]);
    if (!doc) return undefined;
    const merged = meta.merged ? (JSON.parse(meta.merged) as unknown) : [];
    return {
      profileId: root,
      doc: JSON.parse(doc) as Record<string, unknown>,
      version: Number(meta.version ?? 0),
      mergedIds: Array.isArray(merged) ? (merged as string[]) : [],
      createdAt: meta.created_at ? Number(meta.created_at) : undefined,
    };
  }

  /** The identifiers a profile owns, per type (the sets the limits are counted on). */
  async identity(pid: string): Promise<Record<IdentifierType, string[]>> {
    const p = this.keys.profile(pid);
    const pipe = this.redis.pipeline();
    for (const t of IDENTIFIER_PRIORITY) pipe.smembers(p.ids(t));
    const r = (await pipe.exec()) ?? [];
    return Object.fromEntries(IDENTIFIER_PRIORITY.map((t, i) => [t, ((r[i]?.[1] as string[]) ?? []).sort()])) as Record<IdentifierType, string[]>;
  }

  /** Reserves room for an identifier in a profile (atomic limit check): 'ok', 'full' or 'moved:<survivor>'. */
  async reserve(pid: string, type: IdentifierType, value: string, limit: number): Promise<string> {
    const p = this.keys.profile(pid);
    return (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<string>>).psReserve!(p.ids(type), p.alias, value, limit);
  }

  async unreserve(pid: string, type: IdentifierType, value: string): Promise<void> {
    await this.redis.srem(this.keys.profile(pid).ids(type), value);
  }

  async owner(type: IdentifierType, value: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.identifier(type, value))) ?? undefined;
  }

  /**
   * Merges `merged` into `survivor`: alias first (from then on every write to `merged` is redirected),
   * then its final document and seen window are joined into the survivor, then its identifiers repointed.
   * Idempotent: re-running after a crash completes the merge.
   */
  async merge(survivor: string, merged: string, identifiers: [IdentifierType, string][]): Promise<void> {
    const m = this.keys.profile(merged);
    const set = await this.redis.set(m.alias, survivor, 'NX');
    if (set !== 'OK') {
      const existing = await this.redis.get(m.alias);
      if (existing && existing !== survivor) {
        // The merge was begun towards a profile that has itself been merged since: finish it at the common root.
        const [a, b] = await Promise.all([this.root(existing), this.root(survivor)]);
        if (a !== b) throw new Error(`profile ${merged} is already merged into ${existing}, not into ${survivor}`);
        survivor = a;
      }
    }
    const [doc, seen, meta] = await Promise.all([
      this.redis.get(m.doc), this.redis.zrange(m.seen, 0, -1, 'WITHSCORES'), this.redis.hget(m.meta, 'merged'),
    ]);
    const mergedIds = meta ? (JSON.parse(meta) as unknown) : [];
    const r = (await (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<[string, string]>>).psMerge!(
      ...this.k(survivor), merged, doc ?? '', JSON.stringify(Array.isArray(mergedIds) ? mergedIds : []), ...seen,
    ));
    if (r[0] === 'moved') return this.merge(r[1], merged, identifiers);
    const owned = identifiers.length ? identifiers : Object.entries(await this.identity(merged)).flatMap(([t, vs]) => vs.map((v) => [t as IdentifierType, v] as [IdentifierType, string]));
    if (owned.length) {
      const s = this.keys.profile(survivor);
      const pipe = this.redis.pipeline();
      for (const [type, value] of owned) {
        pipe.sadd(s.ids(type), value);
        pipe.set(this.keys.identifier(type, value), survivor);
      }
      await pipe.exec();
    }
  }

  async logMerge(entry: Record<string, string>): Promise<void> {
    await this.redis.xadd(this.keys.mergeLog, 'MAXLEN', '~', '1000000', '*', ...Object.entries(entry).flat());
  }
}
