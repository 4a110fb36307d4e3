/**
 * BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive a customer buys as a Poisson
 * process of rate λ ~ Gamma(r, α); after each purchase they drop out with probability p ~ Beta(a, b). A customer's
 * history is (x repeat purchases, t_x the time of the last one, T the time since the first), all measured from the
 * first purchase in one time unit (the model records which). Everything here is pure and in log space where it can
 * overflow; the fit is in fit.ts.
 */
import { PredictError } from './errors.ts';
import { hyp2f1, logAddExp, signedValue } from './special.ts';

export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** One customer's calibration history: repeat purchases x (an integer ≥ 0), last purchase t_x and age T (0 ≤ t_x ≤ T). */
export interface Rfm {
  x: number;
  tx: number;
  T: number;
}

export function checkRfm(c: Rfm, where = 'customer'): void {
  const ok = Number.isInteger(c.x) && c.x >= 0 && Number.isFinite(c.tx) && Number.isFinite(c.T) && c.tx >= 0 && c.T >= c.tx && (c.x > 0 || c.tx === 0);
  if (!ok)
    throw new PredictError('invalid_options', `${where}: expected an integer x ≥ 0 and 0 ≤ t_x ≤ T (t_x = 0 when x = 0), got x=${c.x} t_x=${c.tx} T=${c.T}`);
}

export function checkParams(p: BgNbdParams): void {
  for (const k of ['r', 'alpha', 'a', 'b'] as const) {
    if (!(Number.isFinite(p[k]) && p[k] > 0)) throw new PredictError('invalid_options', `BG/NBD parameter ${k} must be a finite number > 0, got ${p[k]}`);
  }
}

/**
 * The log-likelihood of many customers at once, for the optimiser: the per-x Gamma and Beta terms come from running
 * sums of logs over x = 0..max (ln Γ(r+x) − ln Γ(r) = Σ_{k<x} ln(r+k)), so one evaluation costs a few logs per customer.
 * Customers with the same (x, t_x, T) can be given once with a weight.
 */
export class BgNbdData {
  readonly x: Int32Array;
  readonly tx: Float64Array;
  readonly T: Float64Array;
  readonly weight: Float64Array;
  readonly maxX: number;
  readonly customers: number;

  constructor(rows: readonly Rfm[], weights?: readonly number[]) {
    const n = rows.length;
    this.x = new Int32Array(n);
    this.tx = new Float64Array(n);
    this.T = new Float64Array(n);
    this.weight = new Float64Array(n);
    let maxX = 0;
    let customers = 0;
    for (let i = 0; i < n; i++) {
      const row = rows[i] as Rfm;
      checkRfm(row, `customer ${i}`);
      const w = weights?.[i] ?? 1;
      this.x[i] = row.x;
      this.tx[i] = row.tx;
      this.T[i] = row.T;
      this.weight[i] = w;
      customers += w;
      if (row.x > maxX) maxX = row.x;
    }
    this.maxX = maxX;
    this.customers = customers;
  }

  /** Σ weight × ln L(r, α, a, b | x, t_x, T). */
  logLikelihood(p: BgNbdParams): number {
    const { r, alpha, a, b } = p;
    const maxX = this.maxX;
    // ln[Γ(r+x)/Γ(r)] + r ln α + ln[B(a, b+x)/B(a, b)], and ln a − ln(b+x−1), per x.
    const head = new Float64Array(maxX + 1);
    const dropTerm = new Float64Array(maxX + 1);
    const lnAlpha = Math.log(alpha);
    let lnPochR = 0;
    let lnPochB = 0;
    let lnPochAB = 0;
    for (let x = 0; x <= maxX; x++) {
      if (x > 0) {
        lnPochR += Math.log(r + x - 1);
        lnPochB += Math.log(b + x - 1);
        lnPochAB += Math.log(a + b + x - 1);
        dropTerm[x] = Math.log(a) - Math.log(b + x - 1);
      }
      head[x] = lnPochR + r * lnAlpha + lnPochB - lnPochAB;
    }
    let sum = 0;
    const n = this.x.length;
    for (let i = 0; i < n; i++) {
      const x = this.x[i] as number;
      const rx = r + x;
      const alive = -rx * Math.log(alpha + (this.T[i] as number));
      const ll = x > 0 ? logAddExp(alive, (dropTerm[x] as number) - rx * Math.log(alpha + (this.tx[i] as number))) : alive;
      sum += (this.weight[i] as number) * ((head[x] as number) + ll);
    }
    return sum;
  }
}

/** ln of the odds-like term a/(b+x−1) × ((α+T)/(α+t_x))^(r+x) that P(alive) and the expectations share (−∞ when x = 0). */
function logDeadOdds(p: BgNbdParams, c: Rfm): number {
  if (c.x === 0) return Number.NEGATIVE_INFINITY;
  return Math.log(p.a) - Math.log(p.b + c.x - 1) + (p.r + c.x) * (Math.log(p.alpha + c.T) - Math.log(p.alpha + c.tx));
}

/** P(alive at T | x, t_x, T) = 1 / (1 + δ_{x>0} a/(b+x−1) ((α+T)/(α+t_x))^(r+x)); 1 for a customer with no repeat purchase. */
export function probabilityAlive(p: BgNbdParams, c: Rfm): number {
  const lo = logDeadOdds(p, c);
  return lo === Number.NEGATIVE_INFINITY ? 1 : 1 / (1 + Math.exp(lo));
}

/**
 * E[Y(t) | x, t_x, T], the expected number of purchases in (T, T + t] (FHL 2005, eq. 10):
 *   (a+b+x−1)/(a−1) × [1 − ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))] / (1 + δ_{x>0} a/(b+x−1) ((α+T)/(α+t_x))^(r+x)).
 * At a = 1 the fraction is 0/0 (the bracket vanishes with a − 1): within 1e-6 of it, interpolated between a = 1 ± 2e-6.
 */
export function expectedPurchases(p: BgNbdParams, c: Rfm, t: number): number {
  if (!(t >= 0 && Number.isFinite(t))) throw new PredictError('invalid_options', `expected purchases: horizon t must be a finite number ≥ 0, got ${t}`);
  if (t === 0) return 0;
  if (Math.abs(p.a - 1) < 1e-6) {
    const lo = expectedPurchases({ ...p, a: 1 - 2e-6 }, c, t);
    const hi = expectedPurchases({ ...p, a: 1 + 2e-6 }, c, t);
    return lo + ((hi - lo) * (p.a - (1 - 2e-6))) / 4e-6;
  }
  const { r, alpha, a, b } = p;
  const x = c.x;
  const z = t / (alpha + c.T + t);
  const f = hyp2f1(r + x, b + x, a + b + x - 1, z);
  // ((α+T)/(α+T+t))^(r+x) = (1 − z)^(r+x), times the 2F1, in log space.
  const g = signedValue({ sign: f.sign, log: f.log + (r + x) * Math.log1p(-z) });
  const value = (((a + b + x - 1) / (a - 1)) * (1 - g)) / (1 + Math.exp(logDeadOdds(p, c)));
  return Math.max(0, value);
}

/** E[X(t)] for a new customer (FHL 2005, eq. 9), the population curve: (a+b−1)/(a−1) [1 − (α/(α+t))^r 2F1(r, b; a+b−1; t/(α+t))]. */
export function expectedPurchasesNew(p: BgNbdParams, t: number): number {
  return expectedPurchases(p, { x: 0, tx: 0, T: 0 }, t);
}

/**
 * The median time from T to the next purchase of a customer who is still alive. Under BG/NBD a customer drops out only
 * right after a purchase, so an alive customer buys again for sure; given alive, λ | history ~ Gamma(r+x, α+T) and the
 * wait W is Lomax: P(W > w) = ((α+T)/(α+T+w))^(r+x), whose median is (α+T)(2^(1/(r+x)) − 1). Weigh it with P(alive).
 */
export function medianTimeToNextPurchase(p: BgNbdParams, c: Rfm): number {
  return (p.alpha + c.T) * Math.expm1(Math.LN2 / (p.r + c.x));
}
