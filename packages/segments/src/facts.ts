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

// Paths are split once per process, not on every read: the evaluator reads the same few dozen paths (those the
// definitions name) for every definition of every profile change. Bounded all the same, in case a caller reads
// paths that vary.
const KEYS = new Map<string, readonly string[]>();
function keysOf(path: string): readonly string[] {
  let keys = KEYS.get(path);
  if (keys === undefined) {
    keys = path.split('.');
    if (KEYS.size < 4096) KEYS.set(path, keys);
  }
  return keys;
}

function at(view: JsonValue, path: string): JsonValue {
  let v: JsonValue | undefined = view;
  for (const key of keysOf(path)) {
    if (!isObject(v) || !Object.hasOwn(v, key)) return null;
    v = v[key];
  }
  return v ?? null;
}

function toTime(v: JsonValue): number | null {
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : null;
}

/** Sorts by time unless already sorted (the view lists purchases and product views in time order). */
function byTime(points: PurchaseFact[]): PurchaseFact[] {
  for (let i = 1; i < points.length; i++) if (points[i - 1]!.at > points[i]!.at) return points.sort((a, b) => a.at - b.at);
  return points;
}

export function factsOf(view: JsonValue): Facts {
  const times = new Map<string, number | null>();
  const time = (path: string): number | null => {
    const known = times.get(path);
    if (known !== undefined) return known;
    const t = toTime(at(view, path));
    times.set(path, t);
    return t;
  };
  const raw = at(view, 'transactions.purchases');
  const purchases: PurchaseFact[] = [];
  if (Array.isArray(raw)) {
    for (const p of raw) {
      if (!isObject(p)) continue;
      const t = toTime(p.at ?? null);
      if (t === null) continue;
      purchases.push({
        at: t,
        currency: String(p.currency ?? ''),
        total_minor: typeof p.total_minor === 'number' ? p.total_minor : 0,
        refunded_minor: typeof p.refunded_minor === 'number' ? p.refunded_minor : 0,
      });
    }
  }
  // Read when first asked for: up to 50 timestamps to parse, and only segments on product views ask (a buyer is
  // usually settled before: browser-not-buyer tests orders_count first).
  let productViews: PurchaseFact[] | undefined;
  const readProductViews = (): PurchaseFact[] => {
    const viewTimes = at(view, 'activity.recent_product_view_times');
    const points: PurchaseFact[] = [];
    if (Array.isArray(viewTimes)) {
      for (const x of viewTimes) {
        const t = toTime(x);
        if (t !== null) points.push({ at: t, currency: '', total_minor: 0, refunded_minor: 0 });
      }
    }
    return byTime(points);
  };
  const revenue = at(view, 'transactions.revenue_minor');
  const orders = at(view, 'transactions.orders_count');
  return {
    value: (path) => at(view, path),
    time,
    purchases: byTime(purchases),
    get productViews() {
      productViews ??= readProductViews();
      return productViews;
    },
    lastPurchaseAt: time('transactions.last_purchase_at'),
    ordersCount: typeof orders === 'number' ? orders : 0,
    revenue: isObject(revenue) ? Object.fromEntries(Object.entries(revenue).filter((e): e is [string, number] => typeof e[1] === 'number')) : {},
  };
}
