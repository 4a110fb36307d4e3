import assert from 'node:assert/strict';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { boundedMemo, GenerationalCache } from './memo.ts';

/** A pure function with a call log; it throws for keys ending in 7 (errors are never memoised). */
function logged() {
  const calls: number[] = [];
  const f = (k: number): string | undefined => {
    calls.push(k);
    if (k % 10 === 7) throw new Error(`bad ${k}`);
    return k % 3 === 0 ? undefined : `v${k}`;
  };
  return { calls, f };
}
const outcome = (g: () => unknown) => {
  try {
    return { value: g() };
  } catch (err) {
    return { error: String(err) };
  }
};

describe('boundedMemo', () => {
  test.prop([fc.integer({ min: 2, max: 12 }), fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 200 })], { numRuns: 500 })(
    'gives f(key) (value, undefined or error) every time, and calls f again only for keys it may have dropped',
    (size, keys) => {
      const { calls, f } = logged();
      const memo = boundedMemo(size, f);
      const recent: number[] = []; // distinct keys that returned, most recent last
      for (const k of keys) {
        const before = calls.length;
        const got = outcome(() => memo(k));
        assert.deepEqual(
          got,
          outcome(() => logged().f(k)),
        );
        const kept = recent.slice(-Math.floor(size / 2)).includes(k);
        if (kept) assert.equal(calls.length, before, `key ${k} was among the last ${Math.floor(size / 2)} keys: not recomputed`);
        if (k % 10 === 7) assert.equal(calls.length, before + 1, 'an error is not stored');
        else {
          recent.splice(recent.indexOf(k) >>> 0, recent.includes(k) ? 1 : 0);
          recent.push(k);
        }
      }
    },
  );

  it('is bounded: a key is recomputed once `size` other keys have been used since', () => {
    const { calls, f } = logged();
    const memo = boundedMemo(100, f);
    memo(1);
    for (let i = 0; i < 100; i++) memo(1000 + 10 * i + 1);
    const before = calls.length;
    memo(1);
    assert.equal(calls.length, before + 1);
  });

  it('refuses a size below 2', () => {
    assert.throws(() => boundedMemo(1, String), RangeError);
    assert.throws(() => boundedMemo(2.5, String), RangeError);
  });
});

describe('GenerationalCache', () => {
  test.prop([fc.integer({ min: 2, max: 12 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.boolean()), { maxLength: 300 })], { numRuns: 500 })(
    'holds at most size entries, and the last value set for each of the last size/2 distinct keys set or hit',
    (size, ops) => {
      const cache = new GenerationalCache<number, string>(size);
      const last = new Map<number, string>(); // the last value set per key
      const recent: number[] = []; // distinct keys, most recently set or hit last
      const touch = (k: number) => {
        const at = recent.indexOf(k);
        if (at >= 0) recent.splice(at, 1);
        recent.push(k);
      };
      ops.forEach(([k, write], i) => {
        if (write) {
          cache.set(k, `v${i}`);
          last.set(k, `v${i}`);
          touch(k);
        } else {
          const got = cache.get(k);
          if (got !== undefined) {
            assert.equal(got, last.get(k), `a hit gives the last value set for ${k}`);
            touch(k);
          }
        }
        assert.ok(cache.size <= size, `size ${cache.size} ≤ ${size}`);
        for (const r of recent.slice(-Math.floor(size / 2))) assert.equal(cache.get(r), last.get(r), `recent key ${r} kept`);
      });
    },
  );
  it('refuses a size below 2', () => {
    assert.throws(() => new GenerationalCache(1), /size must be an integer >= 2/);
  });
  it('prune drops the entries it refuses, in both generations, and keeps the others', () => {
    const cache = new GenerationalCache<string, number>(4);
    for (const [k, v] of [
      ['a', 1],
      ['b', 2],
      ['c', 3],
      ['d', 4],
    ] as const)
      cache.set(k, v); // a, b aged into the old generation
    cache.prune((v) => v % 2 === 0);
    assert.deepEqual(
      ['a', 'b', 'c', 'd'].map((k) => cache.get(k)),
      [undefined, 2, undefined, 4],
    );
  });
});
