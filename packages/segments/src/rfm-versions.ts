/**
 * The population's RFM breakpoints, versioned in Redis. Keys (one hash tag, so one slot on a Redis Cluster):
 *   <prefix>{rfm}:version     the current version number (INCR): what a segmenter polls, one GET
 *   <prefix>{rfm}:current     the current version's document (rfmVersionSchema, JSON)
 *   <prefix>{rfm}:history     the last RFM_VERSIONS_KEPT documents, newest first (the current one included)
 *   <prefix>{rfm}:backfilled  the version whose re-scoring of existing profiles has finished
 *   <prefix>{rfm}:lock:<name> a short lease (compute, backfill): one process does it at a time
 * A new version is numbered, stored and pushed in one script, so two computations never share a number and the
 * current document is always the highest number stored. Takes any client with GET, LRANGE and EVAL (ioredis).
 */
import { ProfileStreamError } from '@profile-stream/contracts/errors';
import { type RfmVersion, rfmVersionSchema } from './rfm-population.ts';

export interface RfmRedis {
  get(key: string): Promise<string | null>;
  lrange(key: string, start: number, stop: number): Promise<string[]>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/** Versions kept in the history (the current one included). */
export const RFM_VERSIONS_KEPT = 20;

// KEYS: version, current, history; ARGV: the document without its version (JSON object), versions kept.
// The number is spliced in as text: cjson would re-encode large numbers with 14 significant digits.
const PUBLISH = `
local v = redis.call('INCR', KEYS[1])
local doc = '{"version":' .. v .. ',' .. string.sub(ARGV[1], 2)
redis.call('SET', KEYS[2], doc)
redis.call('LPUSH', KEYS[3], doc)
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[2]) - 1)
return doc`;

// KEYS: lock; ARGV: owner, ttl ms. Taken when free, renewed when already ours.
const LOCK = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if cur then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

// KEYS: backfilled; ARGV: version. Never goes back (a slow backfill of an older version finishing late).
const MARK = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`;

export class RfmVersions {
  readonly keys: { version: string; current: string; history: string; backfilled: string; lock: (name: string) => string };
  private readonly redis: RfmRedis;

  constructor(redis: RfmRedis, prefix: string) {
    this.redis = redis;
    const k = `${prefix}{rfm}:`;
    this.keys = { version: `${k}version`, current: `${k}current`, history: `${k}history`, backfilled: `${k}backfilled`, lock: (n) => `${k}lock:${n}` };
  }

  /** The current version number, 0 when none was ever computed (one GET: what a segmenter polls). */
  async currentVersion(): Promise<number> {
    return Number((await this.redis.get(this.keys.version)) ?? 0);
  }

  /** The current version, or null when none was ever computed. */
  async current(): Promise<RfmVersion | null> {
    const raw = await this.redis.get(this.keys.current);
    return raw === null ? null : parse(raw, this.keys.current);
  }

  /** The versions kept, newest first. */
  async history(): Promise<RfmVersion[]> {
    return (await this.redis.lrange(this.keys.history, 0, -1)).map((raw) => parse(raw, this.keys.history));
  }

  /** Stores `doc` as the next version and makes it current (a `version` it carries is replaced). */
  async publish(doc: Omit<RfmVersion, 'version'>): Promise<RfmVersion> {
    const k = this.keys;
    const body = JSON.stringify({ ...doc, version: undefined }); // undefined: left out, the script puts the number first
    const raw = await this.redis.eval(PUBLISH, 3, k.version, k.current, k.history, body, RFM_VERSIONS_KEPT);
    return parse(String(raw), k.current);
  }

  /** The version whose re-scoring of existing profiles finished (0: none). */
  async backfilled(): Promise<number> {
    return Number((await this.redis.get(this.keys.backfilled)) ?? 0);
  }

  async markBackfilled(version: number): Promise<void> {
    await this.redis.eval(MARK, 1, this.keys.backfilled, version);
  }

  /** Takes (or renews) the lease `name` for `ttlMs`; false when another owner holds it. */
  async lock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(LOCK, 1, this.keys.lock(name), owner, ttlMs)) === 1;
  }

  async unlock(name: string, owner: string): Promise<void> {
    await this.redis.eval(UNLOCK, 1, this.keys.lock(name), owner);
  }
}

function parse(raw: string, key: string): RfmVersion {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    throw new ProfileStreamError('config_invalid', `${key}: not JSON (${(err as Error).message})`);
  }
  const r = rfmVersionSchema.safeParse(v);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ProfileStreamError('config_invalid', `${key}: ${i.path.join('.') || '(document)'}: ${i.message}`);
  }
  return r.data;
}
