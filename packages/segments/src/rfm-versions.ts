/**
 * The population's RFM breakpoints, versioned in Redis (the store: packages/profile/src/store/versioned.ts). Keys
 * (one hash tag, so one slot on a Redis Cluster):
 *   <prefix>{rfm}:version     the current version number (INCR): what a segmenter polls, one GET
 *   <prefix>{rfm}:current     the current version's document (rfmVersionSchema, JSON)
 *   <prefix>{rfm}:history     the last RFM_VERSIONS_KEPT documents, newest first (the current one included)
 *   <prefix>{rfm}:backfilled  the version whose re-scoring of existing profiles has finished
 *   <prefix>{rfm}:lock:<name> a short lease (compute, backfill): one process does it at a time
 * A new version is numbered, stored and pushed in one script, so two computations never share a number and the
 * current document is always the highest number stored.
 */
import { ProfileStreamError } from '@profile-stream/contracts/errors';
import { VersionedDocuments, type VersionedRedis } from '@profile-stream/profile';
import { type RfmVersion, rfmVersionSchema } from './rfm-population.ts';

/** Any client with GET, LRANGE and EVAL (ioredis). */
export type RfmRedis = VersionedRedis;

/** Versions kept in the history (the current one included). */
export const RFM_VERSIONS_KEPT = 20;

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
  private readonly docs: VersionedDocuments<RfmVersion>;

  constructor(redis: RfmRedis, prefix: string) {
    this.redis = redis;
    this.docs = new VersionedDocuments(redis, prefix, { tag: 'rfm', kept: RFM_VERSIONS_KEPT, check });
    const k = this.docs.base;
    this.keys = { ...this.docs.keys, backfilled: `${k}backfilled`, lock: (n) => `${k}lock:${n}` };
  }

  /** The current version number, 0 when none was ever computed (one GET: what a segmenter polls). */
  currentVersion(): Promise<number> {
    return this.docs.currentVersion();
  }

  /** The current version, or null when none was ever computed. */
  current(): Promise<RfmVersion | null> {
    return this.docs.current();
  }

  /** The versions kept, newest first. */
  history(): Promise<RfmVersion[]> {
    return this.docs.history();
  }

  /** Stores `doc` as the next version and makes it current (a `version` it carries is replaced). */
  publish(doc: Omit<RfmVersion, 'version'>): Promise<RfmVersion> {
    return this.docs.publish(doc);
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

function check(v: unknown, key: string): RfmVersion {
  const r = rfmVersionSchema.safeParse(v);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ProfileStreamError('config_invalid', `${key}: ${i.path.join('.') || '(document)'}: ${i.message}`);
  }
  return r.data;
}
