/**
 * A whole model from customers' histories (history.ts): BG/NBD on everyone, in days; Gamma-Gamma on the repeat buyers
 * with a positive mean order value in the model currency. A BG/NBD that cannot be fitted throws `model_fit_failed`
 * (the caller keeps its previous model); a Gamma-Gamma that cannot leaves the model without order values and CLV,
 * and says why. Also the holdout check on the same histories (report).
 */
import { PredictError } from './errors.ts';
import { fitBgNbd } from './fit.ts';
import { fitGammaGamma } from './gammagamma.ts';
import type { History, OrderPoint } from './history.ts';
import { historyOf } from './history.ts';
import { type HoldoutCustomer, type HoldoutRow, holdoutTable } from './holdout.ts';
import type { ClvOptions, PredictModel } from './score.ts';

export interface FitModelOptions {
  version: number;
  now: number;
  clv: ClvOptions;
  /** The Gamma-Gamma currency; default: the currency of most repeat buyers. */
  currency?: string;
  minCustomers?: number;
}

export interface FittedModel {
  model: PredictModel;
  /** Why the model has no Gamma-Gamma part, when it has none. */
  gammaGammaError: string | null;
  ms: number;
}

function mainCurrency(histories: readonly History[]): string | null {
  const counts = new Map<string, number>();
  for (const h of histories) if (h.x > 0 && h.mean_order_minor !== null) counts.set(h.currency, (counts.get(h.currency) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? null;
}

export function fitModel(histories: readonly History[], o: FitModelOptions): FittedModel {
  const t0 = performance.now();
  const fit = fitBgNbd(
    histories.map((h) => ({ x: h.x, tx: h.tx_days, T: h.T_days })),
    { minCustomers: o.minCustomers },
  );
  const currency = o.currency ?? mainCurrency(histories);
  let gammaGamma: PredictModel['gamma_gamma'] = null;
  let gammaGammaError: string | null = null;
  if (currency === null) {
    gammaGammaError = 'no repeat buyer with a positive order value';
  } else {
    const spends = histories
      .filter((h) => h.currency === currency && h.x > 0 && h.mean_order_minor !== null)
      .map((h) => ({ x: h.x, mx: h.mean_order_minor as number }));
    try {
      const gg = fitGammaGamma(spends, { minCustomers: o.minCustomers });
      gammaGamma = { params: gg.params, log_likelihood: gg.logLikelihood, customers: gg.customers, currency };
    } catch (err) {
      if (!(err instanceof PredictError)) throw err;
      gammaGammaError = err.message;
    }
  }
  const model: PredictModel = {
    version: o.version,
    fitted_at: new Date(o.now).toISOString(),
    unit_days: 1,
    bgnbd: { params: fit.params, log_likelihood: fit.logLikelihood, customers: fit.customers },
    gamma_gamma: gammaGamma,
    clv: o.clv,
  };
  return { model, gammaGammaError, ms: Math.round(performance.now() - t0) };
}

/**
 * The paper's check on any order history: calibration up to `now − holdoutDays`, the model fitted on it, then the mean
 * purchase days in the holdout period by calibration frequency against the model's expectation.
 */
export function holdoutCheck(customers: readonly (readonly OrderPoint[])[], now: number, holdoutDays: number, minCustomers?: number) {
  const DAY = 86_400_000;
  const cut = now - holdoutDays * DAY;
  const calibrated: HoldoutCustomer[] = [];
  for (const orders of customers) {
    const h = historyOf(orders, cut);
    if (h === null) continue;
    const later = new Set(orders.filter((p) => p.at > cut && p.at <= now).map((p) => Math.floor(p.at / DAY)));
    calibrated.push({ x: h.x, tx: h.tx_days, T: h.T_days, holdout: later.size });
  }
  const fit = fitBgNbd(calibrated, { minCustomers });
  const rows: HoldoutRow[] = holdoutTable(fit.params, calibrated, holdoutDays);
  return { fit, rows, cut };
}
