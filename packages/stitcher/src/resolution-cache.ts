/**
 * Identifier set → resolution, kept across chunks (bounded, least recently used out first). Safe because a
 * resolved identifier set only ever changes by merges, and a merged profile keeps an alias that the fold
 * follows to the survivor. A reused resolution carries no creation/merge records (those belong to the event
 * that caused them). When erasure lands, an erased profile must leave a tombstone the fold refuses, or this
 * cache must be told (see the profile-erased issue).
 */
import type { IdentityResolver, NormalisedIds, Resolution } from '@profile-stream/profile';

export type PresentIds = Omit<NormalisedIds, 'dropped'>;

export class ResolutionCache {
  private readonly entries = new Map<string, Promise<Resolution>>();
  private readonly resolver: IdentityResolver;
  private readonly capacity: number;
  hits = 0;
  misses = 0;

  constructor(resolver: IdentityResolver, capacity: number) {
    this.resolver = resolver;
    this.capacity = capacity;
  }

  resolve(ids: PresentIds): Promise<Resolution> {
    const sig = `${ids.user_id ?? ''}\u0000${ids.email ?? ''}\u0000${ids.phone ?? ''}\u0000${ids.anonymous_id ?? ''}`;
    const hit = this.entries.get(sig);
    if (hit) {
      this.hits++;
      this.entries.delete(sig); // refresh its place
      this.entries.set(sig, hit);
      return hit.then((r) => ({ ...r, created: false, merges: [], refused: [] }));
    }
    this.misses++;
    const p = this.resolver.resolve(ids);
    if (this.capacity > 0) {
      this.entries.set(sig, p);
      p.catch(() => this.entries.delete(sig));
      if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    }
    return p;
  }
}
