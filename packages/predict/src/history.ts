/**
 * A customer's order history → the model's inputs, one rule for the fit (orders from the warehouse) and for scoring
 * (orders from the profile), so the two can never count differently:
 *   - an order counts when completed and not cancelled (as the profile's orders_count); its value is its completed
 *     total minus refunds, in its currency;
 *   - purchases are counted in UTC days, as BG/NBD counts them (several orders on one day are one purchase, with the
 *     day's value: the CDNOW convention of FHL 2005);
 *   - x = purchase days − 1 (repeat purchases), t_x = last day − first day, T = as-of − start of the first day, in days;
 *   - the customer's currency is the one most of their orders are in (ties: alphabetical); the mean order value is the
 *     mean day value of the repeat days in that currency (null without a repeat day, or when it is not > 0).
 * Orders after the as-of time are left out (a fit or a score as of a past instant).
 */
import type { ScoreInput } from './score.ts';

export interface OrderPoint {
  /** Completion time, epoch ms. */
  at: number;
  /** Completed total minus refunds, minor units. */
  net_minor: number;
  currency: string;
}

const DAY = 86_400_000;

export interface History extends ScoreInput {
  /** Orders counted (before the as-of time). */
  orders: number;
}

/** Null when the customer has no order up to `asOf`: the model says nothing about someone who never bought. */
export function historyOf(orders: readonly OrderPoint[], asOf: number): History | null {
  const days = new Map<number, Map<string, number>>();
  const currencies = new Map<string, number>();
  let counted = 0;
  for (const o of orders) {
    if (!(o.at <= asOf) || !Number.isFinite(o.at)) continue;
    counted++;
    const day = Math.floor(o.at / DAY);
    const values = days.get(day) ?? new Map<string, number>();
    values.set(o.currency, (values.get(o.currency) ?? 0) + o.net_minor);
    days.set(day, values);
    currencies.set(o.currency, (currencies.get(o.currency) ?? 0) + 1);
  }
  if (counted === 0) return null;
  const currency = [...currencies].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))[0]?.[0] as string;
  const sorted = [...days.keys()].sort((a, b) => a - b);
  const first = sorted[0] as number;
  const last = sorted[sorted.length - 1] as number;
  const x = sorted.length - 1;
  let sum = 0;
  let n = 0;
  for (const day of sorted.slice(1)) {
    const v = days.get(day)?.get(currency);
    if (v !== undefined) {
      sum += v;
      n++;
    }
  }
  const mean = n > 0 && sum / n > 0 ? sum / n : null;
  return { x, tx_days: last - first, T_days: Math.max(last - first, (asOf - first * DAY) / DAY), mean_order_minor: mean, currency, orders: counted };
}
