/**
 * Gamma-Gamma spend model (Fader, Hardie & Lee 2005b "RFM and CLV: using iso-value curves"; Fader & Hardie 2013 note
 * "The Gamma-Gamma model of monetary value"): each transaction's value is Gamma(p, ν), ν ~ Gamma(q, γ) across customers,
 * independent of the purchase process. Fitted on customers with x ≥ 1 repeat purchases and their mean repeat value m_x.
 */
import { PredictError } from './errors.ts';
import { lgamma } from './special.ts';
import { nelderMead } from './optimise.ts';

export interface GammaGammaParams {
  p: number;
  q: number;
  gamma: number;
}

export interface Spend {
  /** Number of transactions m_x is the mean of (repeat purchases). */
  x: number;
  /** Their mean value (> 0). */
  mx: number;
}

export interface GammaGammaFit {
  params: GammaGammaParams;
  logLikelihood: number;
  customers: number;
  evaluations: number;
}

/** Σ ln f(m_x | x; p, q, γ) = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m_x + px ln x − (px+q) ln(γ + x m_x). */
export function gammaGammaLogLikelihood(params: GammaGammaParams, spends: readonly Spend[]): number {
  const { p, q, gamma } = params;
  const lgq = lgamma(q);
  const qlng = q * Math.log(gamma);
  let sum = 0;
  for (const { x, mx } of spends) {
    const px = p * x;
    sum += lgamma(px + q) - lgamma(px) - lgq + qlng + (px - 1) * Math.log(mx) + px * Math.log(x) - (px + q) * Math.log(gamma + x * mx);
  }
  return sum;
}

export function fitGammaGamma(spends: readonly Spend[], options: { minCustomers?: number; maxEvaluations?: number } = {}): GammaGammaFit {
  const usable = spends.filter((s) => s.x >= 1 && s.mx > 0 && Number.isFinite(s.mx));
  const minCustomers = options.minCustomers ?? 20;
  if (usable.length < minCustomers) {
    throw new PredictError(
      'model_fit_failed',
      `Gamma-Gamma fit: ${usable.length} customers with a repeat purchase of positive value, at least ${minCustomers} are needed`,
    );
  }
  const mean = usable.reduce((s, u) => s + u.mx, 0) / usable.length;
  const toParams = (v: readonly number[]): GammaGammaParams => ({ p: Math.exp(v[0] as number), q: Math.exp(v[1] as number), gamma: Math.exp(v[2] as number) });
  const result = nelderMead((v) => -gammaGammaLogLikelihood(toParams(v), usable), [0, 0, Math.log(mean)], { maxEvaluations: options.maxEvaluations ?? 20_000 });
  if (!result.converged || result.x.some((v) => Math.abs(v) > 18)) {
    throw new PredictError(
      'model_fit_failed',
      `Gamma-Gamma fit: no finite maximum found in ${result.evaluations} evaluations (spend too uniform or too few repeat buyers)`,
    );
  }
  const params = toParams(result.x);
  if (params.q <= 1) {
    throw new PredictError(
      'model_fit_failed',
      `Gamma-Gamma fit: q = ${params.q} ≤ 1, the population's mean spend is not finite; the model cannot value customers`,
    );
  }
  return { params, logLikelihood: -result.value, customers: usable.length, evaluations: result.evaluations };
}

/**
 * E[M | x, m_x] = (γ + x m_x) p / (px + q − 1): a weighted mean of the population mean pγ/(q−1) and the customer's own
 * m_x, the weight on m_x growing with x. For x = 0 (or no value) it is the population mean.
 */
export function expectedOrderValue(params: GammaGammaParams, x: number, mx: number): number {
  const { p, q, gamma } = params;
  if (x <= 0 || !(mx > 0)) return (p * gamma) / (q - 1);
  return (p * (gamma + x * mx)) / (p * x + q - 1);
}
