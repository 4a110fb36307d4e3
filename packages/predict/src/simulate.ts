/**
 * Customers drawn from a BG/NBD model (and Gamma-Gamma spend), seeded: for the fit's recovery tests and
 * `bench predict`. Each customer: λ ~ Gamma(r, α), p ~ Beta(a, b); repeat purchases at exponential gaps of rate λ;
 * after each, dropout with probability p. Observed over an age T; the holdout counts purchases in (T, T + holdout].
 */
import type { BgNbdParams, Rfm } from './bgnbd.ts';
import type { GammaGammaParams } from './gammagamma.ts';

/** mulberry32: small, fast, seeded; good enough for simulation, not for secrets. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Gamma(shape, rate) by Marsaglia & Tsang (shape < 1 boosted by U^(1/shape)). */
export function gammaVariate(rand: () => number, shape: number, rate: number): number {
  if (shape < 1) return gammaVariate(rand, shape + 1, rate) * (1 - rand()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = normal(rand);
    const v = (1 + c * z) ** 3;
    if (v <= 0) continue;
    const u = 1 - rand();
    if (Math.log(u) < 0.5 * z * z + d - d * v + d * Math.log(v)) return (d * v) / rate;
  }
}

export interface SimulatedCustomer extends Rfm {
  holdout: number;
  /** Mean value of the repeat purchases (0 when x = 0), when spend was simulated. */
  mx: number;
}

export interface SimulateOptions {
  customers: number;
  /** Each customer's age T is drawn uniformly from [minT, maxT] (model time units). */
  minT: number;
  maxT: number;
  holdout?: number;
  spend?: GammaGammaParams;
  seed?: number;
}

export function simulateCustomers(params: BgNbdParams, options: SimulateOptions): SimulatedCustomer[] {
  const rand = seededRandom(options.seed ?? 1);
  const holdout = options.holdout ?? 0;
  const out: SimulatedCustomer[] = [];
  for (let i = 0; i < options.customers; i++) {
    const lambda = gammaVariate(rand, params.r, params.alpha);
    const g1 = gammaVariate(rand, params.a, 1);
    const p = g1 / (g1 + gammaVariate(rand, params.b, 1));
    const T = options.minT + (options.maxT - options.minT) * rand();
    let t = 0;
    let x = 0;
    let tx = 0;
    let later = 0;
    for (;;) {
      t += -Math.log(1 - rand()) / lambda;
      if (t > T + holdout) break;
      if (t <= T) {
        x++;
        tx = t;
      } else {
        later++;
      }
      // Dropout right after each repeat purchase (alive at the first one, as the likelihood has it for x = 0).
      if (rand() < p) break;
    }
    let mx = 0;
    if (options.spend !== undefined && x > 0) {
      const nu = gammaVariate(rand, options.spend.q, options.spend.gamma);
      let sum = 0;
      for (let k = 0; k < x; k++) sum += gammaVariate(rand, options.spend.p, nu);
      mx = sum / x;
    }
    out.push({ x, tx, T, holdout: later, mx });
  }
  return out;
}
