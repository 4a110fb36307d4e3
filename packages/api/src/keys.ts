/**
 * API keys: bearer secrets with scopes, stored hashed in Redis under the deployment's prefix.
 *
 * A key reads `psk_<id>_<secret>`: the id (16 hex) is public and names the record; the secret is 32 random bytes
 * (base64url). Redis keeps only SHA-256 of the whole key: with 256 bits of entropy no slow hash is needed, and a
 * dump of Redis gives no usable key. The key itself is shown once, when it is made.
 *   <prefix>apikey:<id>  → HASH hash (hex SHA-256 of the key), scopes (comma-separated), name, created_at (ms)
 *   <prefix>apikeys      → SET of the ids (for `apikey list`)
 * Revoking deletes the record: the key is unknown from the next request on, or, with `cacheMs` (the API service:
 * PROFILE_API_KEY_CACHE_SECONDS), within `cacheMs` in other processes (a verified key is trusted that long without a
 * Redis read; the process that revokes forgets it at once).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ProfileStreamError } from '@profile-stream/contracts/errors';

export const SCOPES = ['read', 'consent', 'erase', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKeyRecord {
  id: string;
  scopes: Scope[];
  name: string;
  createdAt: number;
}

const KEY = /^psk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** The id of a well-formed key; undefined for anything else (the caller answers 401 without a Redis look-up). */
export function keyId(key: string): string | undefined {
  return KEY.exec(key)?.[1];
}

export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** A fresh key: 8 random bytes of id, 32 of secret. */
export function newKey(): { id: string; key: string } {
  const id = randomBytes(8).toString('hex');
  return { id, key: `psk_${id}_${randomBytes(32).toString('base64url')}` };
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 6750); undefined otherwise. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer +([^\s]+) *$/i.exec(header);
  return m?.[1];
}

/** `read,erase` → the scopes, each known, none repeated; throws invalid_options naming the option. */
export function parseScopes(raw: string): Scope[] {
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = list.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (list.length === 0 || unknown.length > 0) {
    throw new ProfileStreamError(
      'invalid_options',
      `--scopes: expected a comma-separated subset of ${SCOPES.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`,
      {
        details: { option: 'scopes' },
      },
    );
  }
  return SCOPES.filter((s) => list.includes(s));
}

// Compared against when the id is unknown, so an unknown id and a wrong secret take the same work.
const NO_HASH = Buffer.alloc(32);

/** Verified keys kept at most: past this the oldest is forgotten (a key not in the cache is simply read again). */
export const KEY_CACHE_ENTRIES = 10_000;

export class ApiKeyStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly cacheMs: number;
  private readonly now: () => number;
  /** Verified keys by their hash (no secret is kept), in insertion order, with when they must be read again. */
  private readonly verified = new Map<string, { record: ApiKeyRecord; until: number }>();

  constructor(o: { redis: Redis; prefix: string; cacheMs?: number; now?: () => number }) {
    if (o.cacheMs !== undefined && !(Number.isInteger(o.cacheMs) && o.cacheMs >= 0))
      throw new ProfileStreamError('invalid_options', 'cacheMs must be an integer >= 0', { details: { option: 'cacheMs' } });
    this.redis = o.redis;
    this.prefix = o.prefix;
    this.cacheMs = o.cacheMs ?? 0;
    this.now = o.now ?? Date.now;
  }

  private record(id: string): string {
    return `${this.prefix}apikey:${id}`;
  }

  private get index(): string {
    return `${this.prefix}apikeys`;
  }

  /** Makes a key: the returned `key` is the only copy there will ever be. */
  async create(o: { scopes: readonly Scope[]; name?: string; now?: number }): Promise<ApiKeyRecord & { key: string }> {
    if (o.scopes.length === 0) throw new ProfileStreamError('invalid_options', 'an API key needs at least one scope', { details: { option: 'scopes' } });
    const { id, key } = newKey();
    const createdAt = o.now ?? Date.now();
    const name = o.name ?? '';
    await this.redis
      .multi()
      .hset(this.record(id), { hash: hashKey(key).toString('hex'), scopes: o.scopes.join(','), name, created_at: createdAt })
      .sadd(this.index, id)
      .exec();
    return { id, key, scopes: [...o.scopes], name, createdAt };
  }

  /** Every key's record (never a key), oldest first. */
  async list(): Promise<ApiKeyRecord[]> {
    const ids = await this.redis.smembers(this.index);
    const records = await Promise.all(ids.map((id) => this.read(id)));
    return records.filter((r) => r !== undefined).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  /** True when the key existed. */
  async revoke(id: string): Promise<boolean> {
    for (const [hash, v] of this.verified) if (v.record.id === id) this.verified.delete(hash);
    const [[, deleted] = []] = (await this.redis.multi().del(this.record(id)).srem(this.index, id).exec()) ?? [];
    return deleted === 1;
  }

  /** The record of a presented key when it is one of ours (hash compared in constant time), else undefined. */
  async verify(key: string): Promise<ApiKeyRecord | undefined> {
    const id = keyId(key);
    if (id === undefined) return undefined;
    const hash = hashKey(key);
    const cacheKey = this.cacheMs > 0 ? hash.toString('base64') : undefined;
    const hit = cacheKey === undefined ? undefined : this.verified.get(cacheKey);
    if (hit && hit.until > this.now()) return hit.record;
    const stored = await this.redis.hgetall(this.record(id));
    const expected = stored.hash && /^[0-9a-f]{64}$/.test(stored.hash) ? Buffer.from(stored.hash, 'hex') : NO_HASH;
    const ok = timingSafeEqual(hash, expected) && expected !== NO_HASH;
    if (!ok) {
      if (cacheKey !== undefined) this.verified.delete(cacheKey);
      return undefined;
    }
    const record = toRecord(id, stored);
    if (cacheKey !== undefined) {
      this.verified.delete(cacheKey); // re-inserted last: the Map's order is the eviction order
      if (this.verified.size >= KEY_CACHE_ENTRIES) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(cacheKey, { record, until: this.now() + this.cacheMs });
    }
    return record;
  }

  private async read(id: string): Promise<ApiKeyRecord | undefined> {
    const stored = await this.redis.hgetall(this.record(id));
    return stored.hash ? toRecord(id, stored) : undefined;
  }
}

function toRecord(id: string, stored: Record<string, string>): ApiKeyRecord {
  return {
    id,
    scopes: (stored.scopes ?? '').split(',').filter((s): s is Scope => (SCOPES as readonly string[]).includes(s)),
    name: stored.name ?? '',
    createdAt: Number(stored.created_at ?? 0),
  };
}
