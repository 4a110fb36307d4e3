/**
 * The `predictions` section: what `profile-stream predict score` (packages/predict, BG/NBD + Gamma-Gamma) says about a
 * customer, as one last-writer-wins cell (t = when scored, id = the scoring run's id), so a later scoring replaces an
 * earlier one whatever order they arrive in, and merging two profiles keeps the later. The view nests and names it.
 */
import type { Cell, PredictionsValue, ProfileDoc } from './doc.ts';
import type { JsonValue } from './view.ts';

/** The fragment a scoring run folds into one profile (no `hw`: scoring is not customer activity, last_event_at stays). */
export function predictionsFragment(value: PredictionsValue, scoredAt: number, runId: string): ProfileDoc {
  return { predictions: { v: value, t: scoredAt, id: runId } };
}

const iso = (t: unknown): string | null => (typeof t === 'number' ? new Date(t).toISOString() : null);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/**
 * The view's `predictions` (keys sorted), or null when the profile was never scored. A field that is absent (or not of
 * its type: the document is data, read defensively like every section) is null.
 */
export function predictionsView(c: Cell<PredictionsValue> | undefined): JsonValue {
  if (c === undefined) return null;
  const v: Partial<Record<keyof PredictionsValue, unknown>> = typeof c.v === 'object' && c.v !== null ? c.v : {};
  return {
    best_channel: typeof v.best_channel === 'string' ? v.best_channel : null,
    best_hour_of_week: num(v.best_hour_of_week),
    clv_minor: num(v.clv_minor),
    currency: typeof v.currency === 'string' ? v.currency : null,
    expected_order_minor: num(v.order_value_minor),
    expected_purchases: { d30: num(v.purchases_30d), d365: num(v.purchases_365d), d90: num(v.purchases_90d) },
    model_version: num(v.model_version),
    next_purchase_at: iso(v.next_purchase_at),
    p_alive: num(v.p_alive),
    scored_at: iso(c.t),
  };
}
