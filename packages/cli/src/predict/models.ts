/**
 * Fitted models, versioned in Redis (one hash tag, so one slot on a Redis Cluster):
 *   <prefix>{predict}:version  the current version number (INCR)
 *   <prefix>{predict}:current  the current model (PredictModel, JSON: parameters, fit time, log-likelihoods)
 *   <prefix>{predict}:history  the last MODELS_KEPT models, newest first
 * A model is numbered, stored and made current in one script, so two fits never share a number and the current model
 * is always the highest number. A fit that fails stores nothing: the current model stays, and no number is used.
 */
import type { Redis } from 'ioredis';
import { ProfileStreamError } from '@profile-stream/consumer-kit';
import type { PredictModel } from '@profile-stream/predict';

export const MODELS_KEPT = 20;

// KEYS: version, current, history; ARGV: the model without its version (JSON object), models kept.
// The number is spliced in as text: cjson would re-encode the document's numbers with 14 significant digits.
const STORE = `
local v = redis.call('INCR', KEYS[1])
local doc = '{"version":' .. v .. ',' .. string.sub(ARGV[1], 2)
redis.call('SET', KEYS[2], doc)
redis.call('LPUSH', KEYS[3], doc)
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[2]) - 1)
return doc`;

function parse(raw: string, key: string): PredictModel {
  try {
    return JSON.parse(raw) as PredictModel;
  } catch (err) {
    throw new ProfileStreamError('config_invalid', `${key} does not hold a model (not JSON)`, { cause: err });
  }
}

export class ModelStore {
  readonly keys: { version: string; current: string; history: string };
  private readonly redis: Redis;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    const k = `${prefix}{predict}:`;
    this.keys = { version: `${k}version`, current: `${k}current`, history: `${k}history` };
  }

  /** Stores a fitted model as the next version and makes it current (a `version` it carries is replaced). */
  async store(model: PredictModel): Promise<PredictModel> {
    const k = this.keys;
    const body = JSON.stringify({ ...model, version: undefined }); // undefined: left out, the script puts the number first
    return parse(String(await this.redis.eval(STORE, 3, k.version, k.current, k.history, body, MODELS_KEPT)), k.current);
  }

  async current(): Promise<PredictModel | null> {
    const raw = await this.redis.get(this.keys.current);
    return raw === null ? null : parse(raw, this.keys.current);
  }

  async history(): Promise<PredictModel[]> {
    return (await this.redis.lrange(this.keys.history, 0, -1)).map((raw) => parse(raw, this.keys.history));
  }
}
