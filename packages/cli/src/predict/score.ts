/**
 * Scores every live profile with the current model: its counted orders (the profile's purchase timeline, the same rule
 * as the fit's, packages/predict/src/history.ts) → P(alive), expected purchases, order value, CLV, next purchase →
 * folded into the profile's `predictions` cell (last-writer-wins by scoring time), then a `profile-changes` record
 * with cause `predict` so the segmenter re-evaluates (likely-to-churn, high-clv). A profile without an order is not
 * scored; a merged profile is scored through its root.
 */
import type { ProfileDoc, PredictionsValue, ProfileStore } from '@profile-stream/profile';
import { predictionsFragment, purchaseTimeline } from '@profile-stream/profile';
import { bestOption, historyOf, type PredictModel, type Predictions, scoreCustomer } from '@profile-stream/predict';
import { profileChangeRecords } from '@profile-stream/stitcher';
import type { Clients } from '../clients.ts';

export interface ScoredProfile {
  profileId: string;
  version: number;
  doc: Record<string, unknown>;
  mergedIds: string[];
  runId: string;
  scoredAt: number;
}

export interface ScoreRun {
  store: ProfileStore;
  model: PredictModel;
  now: number;
  /** Publishes a chunk's changes; resolves once the broker acknowledged them. */
  publish: (changes: ScoredProfile[]) => Promise<void>;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ScoreSummary {
  profiles: number;
  scored: number;
  withoutOrders: number;
  ms: number;
}

/** The cell's value: nulls left out (a document has no nulls), the next purchase as epoch ms. */
export function predictionsValue(p: Predictions): PredictionsValue {
  const v: PredictionsValue = {
    model_version: p.model_version,
    p_alive: p.p_alive,
    purchases_30d: p.expected_purchases.d30,
    purchases_90d: p.expected_purchases.d90,
    purchases_365d: p.expected_purchases.d365,
  };
  if (p.currency !== null) v.currency = p.currency;
  if (p.expected_order_minor !== null) v.order_value_minor = p.expected_order_minor;
  if (p.clv_minor !== null) v.clv_minor = p.clv_minor;
  if (p.next_purchase_at !== null) v.next_purchase_at = Date.parse(p.next_purchase_at);
  return v;
}

/** Consent purposes that are also channels: a withdrawn one is never the best channel. */
const CONSENTED_CHANNELS = ['email', 'sms', 'push'];

/**
 * The best channel and hour of the week (packages/predict/src/engagement.ts) from the profile's engagement counts and
 * the model's population shares; nothing when the model has no engagement prior or no option has a positive rate.
 */
export function bestEngagement(model: PredictModel, doc: ProfileDoc): Pick<PredictionsValue, 'best_channel' | 'best_hour_of_week'> {
  const prior = model.engagement;
  if (prior === undefined) return {};
  const withdrawn = new Set(CONSENTED_CHANNELS.filter((c) => doc.consent?.[c]?.v.granted === false));
  const channel = bestOption(doc.engagement?.channels, prior.channels, prior.prior_strength, withdrawn);
  const hour = bestOption(doc.engagement?.hours, prior.hours, prior.prior_strength);
  const out: Pick<PredictionsValue, 'best_channel' | 'best_hour_of_week'> = {};
  if (channel !== null) out.best_channel = channel.key;
  if (hour !== null) out.best_hour_of_week = Number(hour.key);
  return out;
}

export async function scoreProfiles(o: ScoreRun): Promise<ScoreSummary> {
  const t0 = performance.now();
  const ids = await o.store.profileIds();
  const runId = `predict:v${o.model.version}:${o.now}`;
  const chunk = o.concurrency ?? 200;
  let scored = 0;
  let withoutOrders = 0;
  for (let i = 0; i < ids.length; i += chunk) {
    const done = await Promise.all(
      ids.slice(i, i + chunk).map(async (id): Promise<ScoredProfile | null> => {
        const p = await o.store.read(id);
        // Gone, or merged into another root (scored as that root).
        if (p === undefined || p.profileId !== id) return null;
        const orders = purchaseTimeline(p.doc as ProfileDoc).map((t) => ({ at: t.at, net_minor: t.total_minor - t.refunded_minor, currency: t.currency }));
        const history = historyOf(orders, o.now);
        if (history === null) {
          withoutOrders++;
          return null;
        }
        const value = { ...predictionsValue(scoreCustomer(o.model, history, new Date(o.now))), ...bestEngagement(o.model, p.doc as ProfileDoc) };
        const fold = await o.store.fold(id, [{ event_id: runId, occurred_at: o.now, fragment: predictionsFragment(value, o.now, runId) }]);
        return { profileId: fold.profileId, version: fold.version, doc: fold.doc, mergedIds: fold.mergedIds, runId, scoredAt: o.now };
      }),
    );
    const changes = done.filter((c): c is ScoredProfile => c !== null);
    if (changes.length) await o.publish(changes);
    scored += changes.length;
    o.onProgress?.(Math.min(ids.length, i + chunk), ids.length);
  }
  return { profiles: ids.length, scored, withoutOrders, ms: Math.round(performance.now() - t0) };
}

/** Publishes scored profiles on profile-changes (cause `predict`, section `predictions`); resolves once acknowledged. */
export function publishScored(clients: Pick<Clients, 'registry' | 'topics' | 'producer'>): ScoreRun['publish'] {
  return async (changes) => {
    const record = await profileChangeRecords(
      clients.registry,
      clients.topics,
      changes.map((c) => ({
        fold: c,
        triggerEventId: c.runId,
        occurredAt: c.scoredAt,
        sections: ['predictions'],
        mergedIds: c.mergedIds,
        cause: 'predict' as const,
      })),
      Date.now(),
    );
    await (await clients.producer()).sendBatch({ acks: -1, topicMessages: [record] });
  };
}
