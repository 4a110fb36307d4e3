/**
 * Fitted models, versioned in Redis (the store: packages/profile/src/store/versioned.ts; one hash tag, so one slot on a
 * Redis Cluster):
 *   <prefix>{predict}:version  the current version number (INCR)
 *   <prefix>{predict}:current  the current model (PredictModel, JSON: parameters, fit time, log-likelihoods)
 *   <prefix>{predict}:history  the last MODELS_KEPT models, newest first
 * A model is numbered, stored and made current in one script, so two fits never share a number and the current model
 * is always the highest number. A fit that fails stores nothing: the current model stays, and no number is used.
 */
import type { PredictModel } from '@profile-stream/predict';
import { VersionedDocuments, type VersionedRedis } from '@profile-stream/profile';

export const MODELS_KEPT = 20;

export class ModelStore {
  readonly keys: { version: string; current: string; history: string };
  private readonly docs: VersionedDocuments<PredictModel>;

  constructor(redis: VersionedRedis, prefix: string) {
    // The model is this CLI's own output: JSON is checked, its shape trusted.
    this.docs = new VersionedDocuments<PredictModel>(redis, prefix, { tag: 'predict', kept: MODELS_KEPT, check: (v) => v as PredictModel });
    this.keys = this.docs.keys;
  }

  /** Stores a fitted model as the next version and makes it current (a `version` it carries is replaced). */
  store(model: PredictModel): Promise<PredictModel> {
    return this.docs.publish(model);
  }

  current(): Promise<PredictModel | null> {
    return this.docs.current();
  }

  history(): Promise<PredictModel[]> {
    return this.docs.history();
  }
}
