/**
 * A fitted model (BG/NBD + optional Gamma-Gamma, versioned) and what it says about one customer: the `predictions`
 * section of a profile. Every number is checked finite; a value that cannot be computed is null, never NaN or Infinity.
 */
import { type BgNbdParams, checkRfm, expectedPurchases, medianTimeToNextPurchase, probabilityAlive, type Rfm } from './bgnbd.ts';
import type { EngagementPrior } from './engagement.ts';
import { PredictError } from './errors.ts';
import { expectedOrderValue, type GammaGammaParams } from './gammagamma.ts';

export interface PredictModel {
  /** Increases by one with every stored fit. */
  version: number;
  fitted_at: string;
  /** Length of the model's time unit in days (7 = weeks, as in the paper; 1 = days). */
  unit_days: number;
  bgnbd: { params: BgNbdParams; log_likelihood: number; customers: number };
  /** Null when there were too few repeat buyers with a value: no order value or CLV then. */
  gamma_gamma: { params: GammaGammaParams; log_likelihood: number; customers: number; currency: string } | null;
  clv: ClvOptions;
  /** The population's engagement shares (best channel and hour); absent in models fitted before it existed. */
  engagement?: EngagementPrior;
}

export interface ClvOptions {
  horizon_days: number;
  /** Yearly discount rate (0.1 = 10 %/year), applied at the end of each month of the horizon. */
  annual_discount_rate: number;
}

/** One customer as the scorer sees it: times in days from the first purchase; mean order value in minor units. */
export interface ScoreInput {
  x: number;
  tx_days: number;
  T_days: number;
  /** Mean value of the repeat orders (minor units of `currency`), null when x = 0. */
  mean_order_minor: number | null;
  /** The customer's currency: order value and CLV are null unless it is the Gamma-Gamma model's. */
  currency: string;
}

export interface Predictions {
  model_version: number;
  scored_at: string;
  p_alive: number;
  expected_purchases: { d30: number; d90: number; d365: number };
  currency: string | null;
  expected_order_minor: number | null;
  clv_minor: number | null;
  /** now + the median wait for the next purchase if the customer is still alive (see medianTimeToNextPurchase). */
  next_purchase_at: string | null;
}

const MONTH_DAYS = 365.25 / 12;
const DAY_MS = 86_400_000;

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/**
 * CLV over the horizon, discounted: E[order value] × Σ_k (E[Y(t_k)] − E[Y(t_{k−1})]) / (1 + d)^(t_k / 365.25), with
 * t_k = k months (the last step ends at the horizon), E[Y] the BG/NBD conditional expectation from now and d the yearly
 * rate. So each month's expected purchases are valued at the month's end.
 */
export function clv(params: BgNbdParams, c: Rfm, unitDays: number, orderValue: number, options: ClvOptions): number {
  const steps = Math.max(1, Math.ceil(options.horizon_days / MONTH_DAYS - 1e-9));
  let total = 0;
  let before = 0;
  for (let k = 1; k <= steps; k++) {
    const days = Math.min(k * MONTH_DAYS, options.horizon_days);
    const cumulative = expectedPurchases(params, c, days / unitDays);
    total += (cumulative - before) / (1 + options.annual_discount_rate) ** (days / 365.25);
    before = cumulative;
  }
  return orderValue * total;
}

export function scoreCustomer(model: PredictModel, input: ScoreInput, now: Date): Predictions {
  const unit = model.unit_days;
  const c: Rfm = { x: input.x, tx: input.tx_days / unit, T: input.T_days / unit };
  checkRfm(c);
  const p = model.bgnbd.params;
  const round = (v: number | null, digits: number): number | null => (v === null ? null : Number(v.toFixed(digits)));
  const e = (days: number): number => round(finite(expectedPurchases(p, c, days / unit)), 6) ?? 0;
  const gg = model.gamma_gamma;
  const order =
    gg === null || gg.currency !== input.currency
      ? null
      : finite(expectedOrderValue(gg.params, input.mean_order_minor === null ? 0 : input.x, input.mean_order_minor ?? 0));
  const value = order === null ? null : finite(clv(p, c, unit, order, model.clv));
  const wait = finite(medianTimeToNextPurchase(p, c) * unit * DAY_MS);
  const next = wait === null || now.getTime() + wait > 8.64e15 ? null : new Date(now.getTime() + wait).toISOString();
  const pAlive = finite(probabilityAlive(p, c));
  if (pAlive === null) throw new PredictError('invalid_options', `score: P(alive) is not finite for x=${input.x} t_x=${input.tx_days} T=${input.T_days}`);
  return {
    model_version: model.version,
    scored_at: now.toISOString(),
    p_alive: round(pAlive, 6) as number,
    expected_purchases: { d30: e(30), d90: e(90), d365: e(365) },
    currency: order === null ? null : input.currency,
    expected_order_minor: round(order, 0),
    clv_minor: round(value, 0),
    next_purchase_at: next,
  };
}
