// Seeded pseudo-random numbers with no dependencies: sfc32 (128-bit state, passes PractRand) seeded through a
// murmur3-style mixer, so that independent streams (one per customer, one for noise) are derived from
// (seed, label, index) and do not depend on the order in which they are consumed.

/** 32-bit avalanche mix of a list of integers (murmur3 finaliser over a running hash). */
export function hash32(...parts: readonly number[]): number {
  let h = 0x9e3779b9;
  const mix = (word: number): void => {
    let k = Math.imul(word, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  };
  for (const part of parts) {
    // doubles above 2^32 go in as two words so large seeds and epoch ms do not collide
    mix(part >>> 0);
    mix(Math.floor(part / 0x1_0000_0000) >>> 0);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Stable 32-bit hash of a string label (FNV-1a), for use as a stream name in `hash32`/`createRng`. */
export function labelHash(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Pick by weight: `[[value, weight], …]`. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T;
  /** Exponentially distributed with the given mean. */
  exp(mean: number): number;
  /** Log-normal with the given median and sigma of the underlying normal. */
  logNormal(median: number, sigma: number): number;
}

/** sfc32 seeded from `hash32(...seedParts)` (four different derivations fill the 128-bit state). */
export function createRng(...seedParts: readonly number[]): Rng {
  return new Sfc32(hash32(...seedParts, 1), hash32(...seedParts, 2), hash32(...seedParts, 3), hash32(...seedParts, 4));
}

// a class rather than closures: thousands of customers each hold one, and prototype methods cost nothing per instance
class Sfc32 implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(a: number, b: number, c: number, d: number) {
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    for (let i = 0; i < 12; i++) this.next(); // warm up, as the sfc32 author recommends
  }

  next(): number {
    const { a, b, c, d } = this;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    this.c = (((c << 21) | (c >>> 11)) + t) | 0;
    return (t >>> 0) / 0x1_0000_0000;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  weighted<T>(choices: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of choices) total += w;
    let r = this.next() * total;
    for (const [value, w] of choices) {
      r -= w;
      if (r < 0) return value;
    }
    const last = choices[choices.length - 1];
    if (last === undefined) throw new RangeError('weighted pick from an empty list');
    return last[0];
  }

  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  logNormal(median: number, sigma: number): number {
    const u = 1 - this.next(); // Box–Muller
    const v = this.next();
    return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }
}

const hex = (n: number, width: number): string =>
  (n >>> 0)
    .toString(16)
    .padStart(8, '0')
    .slice(8 - width);

/** A keyed permutation of [0, 2^48): a 4-round Feistel network over two 24-bit halves (a bijection). */
function permute48(streamHash: number, counter: number): [hi: number, lo: number] {
  let l = Math.floor(counter / 0x100_0000) & 0xff_ffff;
  let r = counter & 0xff_ffff;
  for (let round = 0; round < 4; round++) {
    const f = hash32(streamHash, round, r) & 0xff_ffff;
    [l, r] = [r, l ^ f];
  }
  return [l, r];
}

/**
 * A UUID-v4-shaped id that is unique by construction for distinct `counter` values (< 2^48) under one
 * `streamHash`: the last 12 hex digits are a keyed permutation of the counter, the rest is hash noise.
 */
export function uuidFor(streamHash: number, counter: number): string {
  if (!Number.isSafeInteger(counter) || counter < 0 || counter >= 2 ** 48) throw new RangeError('uuid counter out of range');
  const r1 = hash32(streamHash, counter, 11);
  const r2 = hash32(streamHash, counter, 12);
  const [hi, lo] = permute48(streamHash, counter);
  const variant = (8 + (r2 & 3)).toString(16);
  return `${hex(r1, 8)}-${hex(r2 >>> 16, 4)}-4${hex(r2 >>> 4, 3)}-${variant}${hex(r1 >>> 5, 3)}-${hex(hi, 6)}${hex(lo, 6)}`;
}
