/**
 * A versioned JSON document in Redis (RFM breakpoints, predict's fitted models). Keys (one hash tag, so one slot on a
 * Redis Cluster):
 *   <prefix>{<tag>}:version  the current version number (INCR): what a poller reads, one GET
 *   <prefix>{<tag>}:current  the current version's document (JSON, `version` first)
 *   <prefix>{<tag>}:history  the last `kept` documents, newest first (the current one included)
 * A new version is numbered, stored and pushed in one script, so two publishers never share a number and the current
 * document is always the highest number stored. Other keys of the same owner go under `base` (same slot).
 * Takes any client with GET, LRANGE and EVAL (ioredis).
 */
import { ProfileStreamError } from '@profile-stream/contracts/errors';

export interface VersionedRedis {
  get(key: string): Promise<string | null>;
  lrange(key: string, start: number, stop: number): Promise<string[]>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

export interface VersionedDocumentsOptions<T> {
  /** The hash tag: `rfm` → `<prefix>{rfm}:…`. */
  tag: string;
  /** Versions kept in the history (the current one included). */
  kept: number;
  /** Checks a parsed document; throws ProfileStreamError naming `key` when it is not a T. */
  check: (value: unknown, key: string) => T;
}

// KEYS: version, current, history; ARGV: the document without its version (JSON object), versions kept.
// The number is spliced in as text: cjson would re-encode large numbers with 14 significant digits.
const PUBLISH = `
local v = redis.call('INCR', KEYS[1])
local doc = '{"version":' .. v .. ',' .. string.sub(ARGV[1], 2)
redis.call('SET', KEYS[2], doc)
redis.call('LPUSH', KEYS[3], doc)
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[2]) - 1)
return doc`;

export class VersionedDocuments<T extends { version: number }> {
  /** `<prefix>{<tag>}:`: the owner's other keys go under it, on the same slot. */
  readonly base: string;
  readonly keys: { version: string; current: string; history: string };
  readonly kept: number;
  private readonly redis: VersionedRedis;
  private readonly check: (value: unknown, key: string) => T;

  constructor(redis: VersionedRedis, prefix: string, o: VersionedDocumentsOptions<T>) {
    this.redis = redis;
    this.kept = o.kept;
    this.check = o.check;
    this.base = `${prefix}{${o.tag}}:`;
    this.keys = { version: `${this.base}version`, current: `${this.base}current`, history: `${this.base}history` };
  }

  /** The current version number, 0 when none was ever published (one GET: what a poller reads). */
  async currentVersion(): Promise<number> {
    return Number((await this.redis.get(this.keys.version)) ?? 0);
  }

  /** The current version, or null when none was ever published. */
  async current(): Promise<T | null> {
    const raw = await this.redis.get(this.keys.current);
    return raw === null ? null : this.parse(raw, this.keys.current);
  }

  /** The versions kept, newest first. */
  async history(): Promise<T[]> {
    return (await this.redis.lrange(this.keys.history, 0, -1)).map((raw) => this.parse(raw, this.keys.history));
  }

  /** Stores `doc` as the next version and makes it current (a `version` it carries is replaced). */
  async publish(doc: Omit<T, 'version'> | T): Promise<T> {
    const k = this.keys;
    const body = JSON.stringify({ ...doc, version: undefined }); // undefined: left out, the script puts the number first
    return this.parse(String(await this.redis.eval(PUBLISH, 3, k.version, k.current, k.history, body, this.kept)), k.current);
  }

  private parse(raw: string, key: string): T {
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (err) {
      throw new ProfileStreamError('config_invalid', `${key}: not JSON (${(err as Error).message})`, { cause: err });
    }
    return this.check(v, key);
  }
}
