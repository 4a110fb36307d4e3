/**
 * Identity resolution: which profile an event belongs to. Driven by the event's highest-priority identifier
 * (user_id > email > phone > anonymous_id); identifiers are claimed with SET NX, so two services seeing the
 * same new e-mail at once end with one profile; other profiles the event links to are merged into the older
 * one, unless the merged identity would break a per-profile limit (then the merge is refused and logged).
 */
import { IDENTIFIER_PRIORITY, type IdentifierType } from './keys.ts';
import { newProfileId, type ProfileStore } from './store.ts';

export type Identifiers = Partial<Record<IdentifierType, string>>;
export type Limits = Record<IdentifierType, number>;
export const DEFAULT_LIMITS: Limits = { user_id: 1, email: 5, phone: 5, anonymous_id: 100 };

export interface MergeRecord { survivor: string; merged: string; matchedOn: IdentifierType }
export interface RefusalRecord { target: string; other: string; matchedOn: IdentifierType; reason: string }

export interface Resolution {
  profileId: string;
  created: boolean;
  merges: MergeRecord[];
  refused: RefusalRecord[];
  /** Identifiers not attached because the profile is at its limit for that type. */
  dropped: { type: IdentifierType; reason: string }[];
}

export interface ResolverOptions {
  store: ProfileStore;
  limits?: Limits;
}

const RETRIES = 8;

export class IdentityResolver {
  private readonly store: ProfileStore;
  private readonly limits: Limits;
  /** Merges known to be complete (alias followed and the survivor lists the merged id). */
  private readonly verified = new Set<string>();

  constructor(o: ResolverOptions) {
    this.store = o.store;
    this.limits = o.limits ?? DEFAULT_LIMITS;
  }

  /** Root of a profile; a merge interrupted after its alias was set is completed on the way. */
  async root(pid: string): Promise<string> {
    let cur = pid;
    for (let hops = 0; hops < 32; hops++) {
      const next = await this.store.redis.get(this.store.keys.profile(cur).alias);
      if (!next) return cur;
      const key = `${cur}>${next}`;
      if (!this.verified.has(key)) {
        const merged = await this.store.redis.hget(this.store.keys.profile(next).meta, 'merged');
        const list = merged ? (JSON.parse(merged) as unknown) : [];
        if (!Array.isArray(list) || !list.includes(cur)) await this.store.merge(next, cur, []);
        this.verified.add(key);
      }
      cur = next;
    }
    throw new Error(`alias chain too long from ${pid}`);
  }

  /** Roots of several profiles; the first alias hop of all of them in one round trip. */
  private async roots(owners: (string | undefined)[]): Promise<(string | undefined)[]> {
    const distinct = [...new Set(owners.filter((o): o is string => o !== undefined))];
    if (distinct.length === 0) return owners;
    const pipe = this.store.redis.pipeline();
    for (const o of distinct) pipe.get(this.store.keys.profile(o).alias);
    const aliases = ((await pipe.exec()) ?? []).map(([, v]) => v as string | null);
    const root = new Map<string, string>();
    await Promise.all(distinct.map(async (o, i) => root.set(o, aliases[i] ? await this.root(o) : o)));
    return owners.map((o) => (o === undefined ? undefined : root.get(o)));
  }

  async resolve(ids: Identifiers): Promise<Resolution> {
    const present = IDENTIFIER_PRIORITY.filter((t) => ids[t] !== undefined).map((t) => [t, ids[t]!] as [IdentifierType, string]);
    if (present.length === 0) throw new Error('resolve() needs at least one identifier');
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const r = await this.tryResolve(present);
      if (r) return r;
    }
    throw Object.assign(new Error('identity resolution kept racing with other writers'), { retriable: true, code: 'identity_contention' });
  }

  /** One attempt; undefined when a concurrent claim changed the picture (the caller retries). */
  private async tryResolve(present: [IdentifierType, string][]): Promise<Resolution | undefined> {
    const pipe = this.store.redis.pipeline();
    for (const [t, v] of present) pipe.get(this.store.keys.identifier(t, v));
    const owners = ((await pipe.exec()) ?? []).map(([, v]) => (v as string | null) ?? undefined);
    const roots = await this.roots(owners);

    const res: Resolution = { profileId: '', created: false, merges: [], refused: [], dropped: [] };
    const [primaryType, primaryValue] = present[0]!;
    // The target: the primary identifier's profile, else the best-ranked owned one that can take the primary.
    let target = roots[0];
    if (!target) {
      for (let i = 1; i < present.length && !target; i++) {
        const candidate = roots[i];
        if (candidate && (await this.hasRoom(candidate, primaryType))) target = candidate;
      }
      if (!target) {
        const pid = newProfileId(this.store.now());
        if ((await this.claim(primaryType, primaryValue, pid)) !== pid) return undefined;
        target = pid;
        res.created = true;
      } else if ((await this.claim(primaryType, primaryValue, target)) !== target) {
        return undefined; // raced, or the candidate filled up meanwhile: look again
      }
    }
    // The other identifiers: claim the free ones, merge the profiles they belong to (within the limits).
    return this.attachOthers(present, roots, target, res);
  }

  private async attachOthers(present: [IdentifierType, string][], roots: (string | undefined)[], first: string, res: Resolution): Promise<Resolution | undefined> {
    let target = first;
    for (let i = 1; i < present.length; i++) {
      const [type, value] = present[i]!;
      const root = roots[i];
      if (root === target) continue;
      if (!root) {
        const owner = await this.claim(type, value, target);
        if (owner === target) continue;
        if (owner === 'full') {
          res.dropped.push({ type, reason: `limit_${type}` });
          continue;
        }
        return undefined; // someone claimed it meanwhile: look again
      }
      const conflict = await this.mergeConflict(target, root);
      if (conflict) {
        res.refused.push({ target, other: root, matchedOn: type, reason: conflict });
        continue;
      }
      const [survivor, merged] = target < root ? [target, root] : [root, target];
      const mergedIdentity = await this.store.identity(merged);
      await this.store.merge(survivor, merged, IDENTIFIER_PRIORITY.flatMap((t) => mergedIdentity[t].map((v) => [t, v] as [IdentifierType, string])));
      res.merges.push({ survivor, merged, matchedOn: type });
      target = survivor;
    }
    res.profileId = target;
    return res;
  }

  /**
   * Claims an identifier for a profile: room is reserved in the profile first (atomic limit check), then
   * the identifier key is set NX. Returns pid on success, 'full', or the profile that owns it already.
   */
  private async claim(type: IdentifierType, value: string, pid: string): Promise<string> {
    const reserved = await this.store.reserve(pid, type, value, this.limits[type]);
    if (reserved === 'full') return 'full';
    if (reserved.startsWith('moved:')) return reserved.slice(6);
    const key = this.store.keys.identifier(type, value);
    if ((await this.store.redis.set(key, pid, 'NX')) === 'OK') return pid;
    const owner = await this.store.redis.get(key);
    const root = owner ? await this.root(owner) : undefined;
    if (root !== pid) await this.store.unreserve(pid, type, value);
    return root ?? pid;
  }

  private async hasRoom(pid: string, type: IdentifierType): Promise<boolean> {
    return (await this.store.identity(pid))[type].length < this.limits[type];
  }

  /** Why two profiles may not be merged (a limit the union would break), or undefined. */
  private async mergeConflict(a: string, b: string): Promise<string | undefined> {
    const [ia, ib] = await Promise.all([this.store.identity(a), this.store.identity(b)]);
    for (const t of IDENTIFIER_PRIORITY) {
      if (new Set([...ia[t], ...ib[t]]).size > this.limits[t]) return `limit_${t}`;
    }
    return undefined;
  }
}
