// Read access to a profile view (the JSON of profileView) for the evaluator: values by dotted path, timestamps
// as epoch ms (parsed once), and the purchase timeline.
import type { JsonValue } from '@profile-stream/profile';

export interface PurchaseFact {
  at: number;
  total_minor: number;
  refunded_minor: number;
  currency: string;
}

export interface Facts {
  /** The value at a dotted path; null when absent. */
  value(path: string): JsonValue;
  /** A timestamp field as epoch ms; null when absent or not a time. */
  time(path: string): number | null;
  /** Completed, not cancelled orders by time. */
  readonly purchases: readonly PurchaseFact[];
  /** The latest product views (`activity.recent_product_view_times`) by time, as points without amounts. */
  readonly productViews: readonly PurchaseFact[];
  readonly lastPurchaseAt: number | null;
  readonly ordersCount: number;
  readonly revenue: Readonly<Record<string, number>>;
}

type JsonObject = { [key: string]: JsonValue };
const isObject = (v: JsonValue | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function at(view: JsonValue, path: string): JsonValue {
  let v: JsonValue | undefined = view;
  for (const key of path.split('.')) v = isObject(v) && Object.hasOwn(v, key) ? v[key] : undefined;
  return v ?? null;
}

function toTime(v: JsonValue): number | null {
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : null;
}

export function factsOf(view: JsonValue): Facts {
  const times = new Map<string, number | null>();
  const time = (path: string): number | null => {
    if (!times.has(path)) times.set(path, toTime(at(view, path)));
    return times.get(path)!;
  };
  const raw = at(view, 'transactions.purchases');
  const purchases = (Array.isArray(raw) ? raw : [])
    .filter(isObject)
    .flatMap((p) => {
      const t = toTime(p.at ?? null);
      return t === null
        ? []
        : [
            {
              at: t,
              currency: String(p.currency ?? ''),
              total_minor: typeof p.total_minor === 'number' ? p.total_minor : 0,
              refunded_minor: typeof p.refunded_minor === 'number' ? p.refunded_minor : 0,
            },
          ];
    })
    .sort((a, b) => a.at - b.at);
  const viewTimes = at(view, 'activity.recent_product_view_times');
  const productViews = (Array.isArray(viewTimes) ? viewTimes : [])
    .flatMap((x) => {
      const t = toTime(x);
      return t === null ? [] : [{ at: t, currency: '', total_minor: 0, refunded_minor: 0 }];
    })
    .sort((a, b) => a.at - b.at);
  const revenue = at(view, 'transactions.revenue_minor');
  const orders = at(view, 'transactions.orders_count');
  return {
    value: (path) => at(view, path),
    time,
    purchases,
    productViews,
    lastPurchaseAt: time('transactions.last_purchase_at'),
    ordersCount: typeof orders === 'number' ? orders : 0,
    revenue: isObject(revenue) ? Object.fromEntries(Object.entries(revenue).filter((e): e is [string, number] => typeof e[1] === 'number')) : {},
  };
}
