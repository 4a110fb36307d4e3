/**
 * Special functions the models need, in log space where values can leave the range of a double: log Γ (Lanczos, with
 * the reflection formula and Γ's sign below 0.5), log Β, a signed log-sum, and the Gaussian hypergeometric 2F1 for
 * z in [0, 1) — a power series, and the 1 − z connection formula near 1 where the series would need too many terms. Pure: no allocation per call beyond small objects, no dependencies.
 */
import { PredictError } from './errors.ts';

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** ln|Γ(x)|; Infinity at the poles (0, −1, −2, …). Relative accuracy about 1e-14 away from the zeros at 1 and 2. */
export function lgamma(x: number): number {
  if (x < 0.5) {
    if (Number.isInteger(x)) return Number.POSITIVE_INFINITY;
    const s = Math.sin(Math.PI * x);
    return Math.log(Math.PI / Math.abs(s)) - lgamma(1 - x);
  }
  const y = x - 1;
  let sum = LANCZOS[0] as number;
  for (let i = 1; i < LANCZOS.length; i++) sum += (LANCZOS[i] as number) / (y + i);
  const t = y + LANCZOS_G + 0.5;
  return HALF_LOG_2PI + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The sign of Γ(x): +1 for x > 0, alternating between the poles below 0 (0 at a pole, where Γ has no value). */
export function gammaSign(x: number): -1 | 0 | 1 {
  if (x > 0) return 1;
  if (Number.isInteger(x)) return 0;
  return Math.floor(x) % 2 === 0 ? 1 : -1;
}

/** ln Β(a, b) for a, b > 0. */
export function logBeta(a: number, b: number): number {
  return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/** ln(e^a + e^b) without overflow. */
export function logAddExp(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** A real number as sign × e^log, so products of huge and tiny factors stay finite. */
export interface SignedLog {
  sign: -1 | 0 | 1;
  log: number;
}

export function signedValue(s: SignedLog): number {
  return s.sign === 0 ? 0 : s.sign * Math.exp(s.log);
}

/** s1 + s2 in signed-log form. */
export function signedAdd(s1: SignedLog, s2: SignedLog): SignedLog {
  if (s1.sign === 0) return s2;
  if (s2.sign === 0) return s1;
  const [big, small] = s1.log >= s2.log ? [s1, s2] : [s2, s1];
  const ratio = Math.exp(small.log - big.log);
  if (big.sign === small.sign) return { sign: big.sign, log: big.log + Math.log1p(ratio) };
  if (ratio === 1) return { sign: 0, log: Number.NEGATIVE_INFINITY };
  return { sign: big.sign, log: big.log + Math.log1p(-ratio) };
}

const SERIES_MAX_TERMS = 2_000_000;
const RESCALE = 1e200;
const LOG_RESCALE = Math.log(RESCALE);

/**
 * The power series Σ (a)_n (b)_n / ((c)_n n!) z^n, rescaled as it grows so that the answer can exceed a double; stops
 * when a term no longer changes the sum. Converges for |z| < 1 (slowly near 1: callers keep z ≤ 0.9 there).
 */
export function hyp2f1Series(a: number, b: number, c: number, z: number, maxTerms = SERIES_MAX_TERMS): SignedLog {
  let term = 1;
  let sum = 1;
  let scale = 0;
  for (let n = 0; n < maxTerms; n++) {
    term *= ((a + n) * (b + n) * z) / ((c + n) * (n + 1));
    sum += term;
    if (Math.abs(sum) > RESCALE || Math.abs(term) > RESCALE) {
      sum /= RESCALE;
      term /= RESCALE;
      scale += LOG_RESCALE;
    }
    // Past the peak (the ratio of terms below 1) and too small to matter: done.
    if (term === 0 || (Math.abs(term) < 1e-17 * Math.abs(sum) && Math.abs((a + n + 1) * (b + n + 1) * z) < Math.abs((c + n + 1) * (n + 2)))) {
      return { sign: sum > 0 ? 1 : sum < 0 ? -1 : 0, log: Math.log(Math.abs(sum)) + scale };
    }
    if (!Number.isFinite(term)) break;
  }
  throw new PredictError('invalid_options', `hyp2f1(${a}, ${b}; ${c}; ${z}): the series did not converge in ${maxTerms} terms`);
}

/** Γ(p)Γ(q) / (Γ(s)Γ(u)) as a signed log; 0 when a denominator is at a pole. */
function gammaRatio(p: number, q: number, s: number, u: number): SignedLog {
  const sign = gammaSign(p) * gammaSign(q) * gammaSign(s) * gammaSign(u);
  if (gammaSign(s) === 0 || gammaSign(u) === 0) return { sign: 0, log: Number.NEGATIVE_INFINITY };
  return { sign: sign as -1 | 0 | 1, log: lgamma(p) + lgamma(q) - lgamma(s) - lgamma(u) };
}

/** A connection-formula value and how far its two terms cancelled: the estimated relative error of the sum. */
interface Connected {
  value: SignedLog;
  error: number;
}

/** Relative rounding error of a double, times a margin for the few operations around each lgamma. */
const ROUNDING = 4 * Number.EPSILON;

/**
 * Abramowitz & Stegun 15.3.6, valid when m = c − a − b is not an integer:
 * 2F1(a,b;c;z) = Γ(c)Γ(m)/(Γ(c−a)Γ(c−b)) 2F1(a,b;1−m;1−z) + (1−z)^m Γ(c)Γ(−m)/(Γ(a)Γ(b)) 2F1(c−a,c−b;1+m;1−z).
 * With large a, b, c and m near 0 the two terms are huge and nearly opposite (each log carries an error of about
 * ε × Σ|ln Γ|), so the sum can lose most of its digits: the error estimate says how many.
 */
function connection(a: number, b: number, c: number, z: number): Connected {
  const m = c - a - b;
  const y = 1 - z;
  const f1 = hyp2f1Series(a, b, 1 - m, y);
  const f2 = hyp2f1Series(c - a, c - b, 1 + m, y);
  const g1 = gammaRatio(c, m, c - a, c - b);
  const g2 = gammaRatio(c, -m, a, b);
  const t1: SignedLog = { sign: (g1.sign * f1.sign) as -1 | 0 | 1, log: g1.log + f1.log };
  const t2: SignedLog = { sign: (g2.sign * f2.sign) as -1 | 0 | 1, log: g2.log + f2.log + m * Math.log(y) };
  const value = signedAdd(t1, t2);
  const magnitude = Math.abs(lgamma(c)) + Math.abs(lgamma(c - a)) + Math.abs(lgamma(c - b)) + Math.abs(lgamma(a)) + Math.abs(lgamma(b)) + 1;
  const cancelled = value.sign === 0 ? Number.POSITIVE_INFINITY : Math.exp(Math.max(t1.log, t2.log) - value.log);
  return { value, error: ROUNDING * magnitude * cancelled };
}

/** How close to an integer m may be before the connection formula is evaluated on either side and interpolated. */
const NEAR_INTEGER = 1e-4;
const CONNECTION_ABOVE = 0.9;
/** Interpolation nodes around an integer k, in units of NEAR_INTEGER: far enough that the cancellation costs ~4 digits. */
const NODES = [-3, -1, 1, 3];

/** Terms the power series may take above z = 0.9 before the connection formula is used instead. */
const SERIES_AFFORDABLE = 50_000;
/** The connection formula's estimated relative error above which the long series is taken instead, when it can be. */
const CONNECTION_ERROR = 1e-10;

/**
 * The Gaussian hypergeometric function 2F1(a, b; c; z) for real a, b, c (c not 0, −1, −2, …) and 0 ≤ z < 1, as a
 * signed log. The power series wherever it converges in reasonable time: always up to z = 0.9, and above while the
 * terms it needs — about the peak z(a+b−c−1)/(1−z) plus a tail of 40/(1−z) — stay under 50,000. Beyond (z very near
 * 1, or a + b − c large: a customer with many purchases) the 1 − z connection formula, whose series converge fast and
 * whose two terms usually do not cancel there, the (1 − z)^(c−a−b) one dominating. Where they do cancel (large a, b,
 * c with c − a − b near 0) the series is summed after all, up to 2,000,000 terms.
 */
export function hyp2f1(a: number, b: number, c: number, z: number): SignedLog {
  if (!(z >= 0 && z < 1)) throw new PredictError('invalid_options', `hyp2f1: z must be in [0, 1), got ${z}`);
  if (gammaSign(c) === 0) throw new PredictError('invalid_options', `hyp2f1: c must not be 0 or a negative integer, got ${c}`);
  if (z === 0) return { sign: 1, log: 0 };
  const terms = (z * Math.max(0, a + b - c - 1) + 40) / (1 - z);
  if (z <= CONNECTION_ABOVE || terms <= SERIES_AFFORDABLE) return hyp2f1Series(a, b, c, z);
  const near = connectionNear(a, b, c, z);
  if (near.error > CONNECTION_ERROR && terms <= SERIES_MAX_TERMS) return hyp2f1Series(a, b, c, z);
  return near.value;
}

/**
 * 2F1 by the connection formula (for z near 1). When m = c − a − b is within 1e-4 of an integer k the formula's two
 * terms have poles that cancel: it is then evaluated at m = k ± 1e-4, k ± 3e-4 (moving c) and the value at m is the
 * cubic through those four (error ~ (3e-4)^4 × the fourth derivative, against ~4 digits lost to the cancellation).
 */
function connectionNear(a: number, b: number, c: number, z: number): Connected {
  const m = c - a - b;
  const k = Math.round(m);
  if (Math.abs(m - k) >= NEAR_INTEGER) return connection(a, b, c, z);
  const at = NODES.map((u) => k + u * NEAR_INTEGER);
  const nodes = at.map((mi) => connection(a, b, a + b + mi, z));
  // Lagrange interpolation relative to the largest value, so values beyond a double's range stay finite. The poles'
  // cancellation at each node (a factor ~1/|mᵢ − k|) is expected; beyond it a node's error counts.
  const ref = Math.max(...nodes.map((v) => v.value.log));
  let value = 0;
  let error = 0;
  for (let i = 0; i < at.length; i++) {
    let weight = 1;
    for (let j = 0; j < at.length; j++) if (j !== i) weight *= (m - (at[j] as number)) / ((at[i] as number) - (at[j] as number));
    const node = nodes[i] as Connected;
    value += weight * signedValue({ sign: node.value.sign, log: node.value.log - ref });
    error = Math.max(error, node.error * Math.abs((at[i] as number) - k));
  }
  return { value: { sign: value > 0 ? 1 : value < 0 ? -1 : 0, log: Math.log(Math.abs(value)) + ref }, error };
}
