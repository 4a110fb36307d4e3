// A bounded memo of a pure function of one key, for hot paths that see the same keys again and again (a customer's
// phone spelling, a profile's times). Two generations instead of a per-entry eviction: deleting a Map's oldest key
// one at a time (keys().next()) walks over the holes earlier deletions left, which made eviction the hot spot.

/**
 * `f` memoised, holding at most `size` results and at least those of the last size/2 distinct keys: a key is looked
 * up in the young generation, then in the old one (and copied young); when the young one is full it becomes the old
 * one and the former old one is dropped. Only for pure functions of the key: a call that throws stores nothing.
 */
export function boundedMemo<K, V>(size: number, f: (key: K) => V): (key: K) => V {
  if (!Number.isInteger(size) || size < 2) throw new RangeError(`boundedMemo: size must be an integer >= 2, got ${size}`);
  const half = Math.floor(size / 2);
  let young = new Map<K, V>();
  let old = new Map<K, V>();
  return (key: K): V => {
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
}
