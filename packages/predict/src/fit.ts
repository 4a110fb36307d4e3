/**
 * Maximum-likelihood fit of BG/NBD: Nelder–Mead on (ln r, ln α, ln a, ln b) minimising −LL, which is what the paper's
 * spreadsheet (Solver on the four parameters) does, with positivity for free. Inputs it cannot fit are refused with
 * `model_fit_failed` and a message saying why, so the caller keeps its previous model.
 */
import { BgNbdData, type BgNbdParams, type Rfm } from './bgnbd.ts';
import { PredictError } from './errors.ts';
import { nelderMead } from './optimise.ts';

export interface FitOptions {
  /** Fewer customers than this: refused (default 20; the four parameters need a population). */
  minCustomers?: number;
  /** Function evaluations allowed (default 20,000). */
  maxEvaluations?: number;
}

export interface BgNbdFit {
  params: BgNbdParams;
  logLikelihood: number;
  customers: number;
  evaluations: number;
}

/** Log-parameters beyond ±LOG_BOUND mean the likelihood is still rising towards a boundary: no finite maximum. */
const LOG_BOUND = 18;

/** Distinct histories above which the fit warm-starts from a sample of about this many. */
const WARM_START_ROWS = 10_000;

/** Every k-th distinct history with its weight: a systematic sample for the warm start. */
function compressedSample(data: BgNbdData, every: number): BgNbdData {
  const rows: Rfm[] = [];
  const weights: number[] = [];
  for (let i = 0; i < data.x.length; i += every) {
    rows.push({ x: data.x[i] as number, tx: data.tx[i] as number, T: data.T[i] as number });
    weights.push(data.weight[i] as number);
  }
  return new BgNbdData(rows, weights);
}

/** Identical histories (all one-time buyers of the same day, say) are evaluated once, with their count as a weight. */
export function compress(rows: readonly Rfm[]): BgNbdData {
  const index = new Map<string, number>();
  const unique: Rfm[] = [];
  const weights: number[] = [];
  for (const row of rows) {
    const key = `${row.x}|${row.tx}|${row.T}`;
    const at = index.get(key);
    if (at === undefined) {
      index.set(key, unique.length);
      unique.push(row);
      weights.push(1);
    } else {
      weights[at] = (weights[at] as number) + 1;
    }
  }
  return new BgNbdData(unique, weights);
}

export function fitBgNbd(rows: readonly Rfm[], options: FitOptions = {}): BgNbdFit {
  const minCustomers = options.minCustomers ?? 20;
  if (rows.length < minCustomers) {
    throw new PredictError('model_fit_failed', `BG/NBD fit: ${rows.length} customers, at least ${minCustomers} are needed`);
  }
  const data = compress(rows);
  let repeaters = 0;
  let sumT = 0;
  for (const row of rows) {
    if (row.x > 0) repeaters++;
    sumT += row.T;
  }
  if (repeaters === 0) {
    throw new PredictError(
      'model_fit_failed',
      `BG/NBD fit: none of the ${rows.length} customers bought more than once (x = 0 for all): the purchase rate cannot be told from the dropout`,
    );
  }
  if (sumT === 0) throw new PredictError('model_fit_failed', `BG/NBD fit: every customer's age T is 0: nothing has been observed yet`);
  const meanT = sumT / rows.length;
  const toParams = (v: readonly number[]): BgNbdParams => ({
    r: Math.exp(v[0] as number),
    alpha: Math.exp(v[1] as number),
    a: Math.exp(v[2] as number),
    b: Math.exp(v[3] as number),
  });
  const maxEvaluations = options.maxEvaluations ?? 20_000;
  // Start at r = a = b = 1 and α at the mean age (the scale of α is the time unit's). A large population starts instead
  // from the fit of a 1-in-k sample of its distinct histories, which takes most of the evaluations at a fraction of the cost.
  let start = [0, Math.log(meanT), 0, 0];
  let step = 0.5;
  let spent = 0;
  if (data.x.length > 2 * WARM_START_ROWS) {
    const every = Math.ceil(data.x.length / WARM_START_ROWS);
    const sample = compressedSample(data, every);
    const warm = nelderMead((v) => -sample.logLikelihood(toParams(v)), start, { maxEvaluations, tolerance: 1e-8 });
    spent = warm.evaluations;
    if (warm.converged && warm.x.every((v) => Math.abs(v) <= LOG_BOUND)) {
      start = warm.x;
      step = 0.05;
    }
  }
  const result = nelderMead((v) => -data.logLikelihood(toParams(v)), start, { maxEvaluations: Math.max(1, maxEvaluations - spent), step });
  if (!result.converged) {
    throw new PredictError('model_fit_failed', `BG/NBD fit: did not converge in ${result.evaluations} evaluations (−LL ${result.value})`);
  }
  if (result.x.some((v) => Math.abs(v) > LOG_BOUND)) {
    const p = toParams(result.x);
    throw new PredictError('model_fit_failed', `BG/NBD fit: the likelihood has no finite maximum on this data (r=${p.r}, α=${p.alpha}, a=${p.a}, b=${p.b})`);
  }
  return { params: toParams(result.x), logLikelihood: -result.value, customers: rows.length, evaluations: spent + result.evaluations };
}
