// A bounded memo of a pure function of one key, for hot paths that see the same keys again and again (a customer's
// phone spelling, a profile's times). Two generations instead of a per-entry eviction: deleting a Map's oldest key
// one at a time (keys().next()) walks over the holes earlier deletions left, which made eviction the hot spot.

/**
 * `f` memoised, holding at most `size` results and at least those of the last size/2 distinct keys: a key is looked
 * up in the young generation, then in the old one (and copied young); when the young one is full it becomes the old
 * one and the former old one is dropped. Only for pure functions of the key: a call that throws stores nothing.
 */
export function boundedMemo<K, V>(size: number, f: (key: K) => V): ((key: K) => V) & { readonly size: number } {
  if (!Number.isInteger(size) || size < 2) throw new RangeError(`boundedMemo: size must be an integer >= 2, got ${size}`);
  const half = Math.floor(size / 2);
  let young = new Map<K, V>();
  let old = new Map<K, V>();
  const memo = (key: K): V => {
    const hit = young.get(key);
    if (hit !== undefined || young.has(key)) return hit as V;
    const v = old.has(key) ? (old.get(key) as V) : f(key);
    if (young.size >= half) {
      old = young;
      young = new Map();
    }
    young.set(key, v);
    return v;
  };
  // results held (both generations; a key in both counts twice until the old one is dropped)
  return Object.defineProperty(memo, 'size', { get: () => young.size + old.size }) as typeof memo & { readonly size: number };
}

/**
 * A bounded cache (most recently set or hit kept) with the same two generations as boundedMemo: at most `size`
 * entries, at least the last size/2 distinct keys set or hit. A hit in the old generation moves the entry to the
 * young one.
 */
export class GenerationalCache<K, V> {
  private readonly half: number;
  private young = new Map<K, V>();
  private old = new Map<K, V>();

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 2) throw new RangeError(`GenerationalCache: size must be an integer >= 2, got ${size}`);
    this.half = Math.floor(size / 2);
  }

  get(key: K): V | undefined {
    const hit = this.young.get(key);
    if (hit !== undefined) return hit;
    const aged = this.old.get(key);
    if (aged !== undefined) this.set(key, aged);
    return aged;
  }

  set(key: K, value: V): void {
    if (!this.young.has(key) && this.young.size >= this.half) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  delete(key: K): void {
    this.young.delete(key);
    this.old.delete(key);
  }

  /** Drops every entry whose value `keep` refuses (both generations). */
  prune(keep: (value: V) => boolean): void {
    for (const m of [this.young, this.old]) for (const [k, v] of m) if (!keep(v)) m.delete(k);
  }

  /** Entries held (both generations; a key in both counts twice until the old one is dropped). */
  get size(): number {
    return this.young.size + this.old.size;
  }
}
