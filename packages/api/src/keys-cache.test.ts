/**
 * ApiKeyStore's cache of verified keys, on an in-memory stand-in for the three Redis calls the store makes (HGETALL,
 * and MULTI of HSET+SADD / DEL+SREM), with the clock injected: a revoked key is refused within `cacheMs` in another
 * process and at once in the one that revoked it; without `cacheMs` every request reads Redis.
 */
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { describe, it } from 'vitest';
import { ApiKeyStore, KEY_CACHE_ENTRIES } from './keys.ts';

/** The hashes of a Redis, and how many HGETALLs it answered. */
function fakeRedis() {
  const hashes = new Map<string, Record<string, string>>();
  const counts = { hgetall: 0 };
  const multi = () => {
    const ops: (() => unknown)[] = [];
    const m = {
      hset: (k: string, v: Record<string, string | number>) => {
        ops.push(() => hashes.set(k, Object.fromEntries(Object.entries(v).map(([f, x]) => [f, String(x)]))));
        return m;
      },
      sadd: () => m,
      srem: () => m,
      del: (k: string) => {
        ops.push(() => (hashes.delete(k) ? 1 : 0));
        return m;
      },
      exec: async () => ops.map((op) => [null, op()]),
    };
    return m;
  };
  const redis = {
    multi,
    hgetall: async (k: string) => {
      counts.hgetall++;
      return { ...(hashes.get(k) ?? {}) };
    },
  };
  return { redis: redis as unknown as Redis, counts };
}

describe('ApiKeyStore cache of verified keys', () => {
  it('trusts a verified key for cacheMs, then reads Redis again: a key revoked elsewhere is refused within the bound', async () => {
    const { redis, counts } = fakeRedis();
    let now = 1_000_000;
    const api = new ApiKeyStore({ redis, prefix: 't:', cacheMs: 5000, now: () => now });
    const cli = new ApiKeyStore({ redis, prefix: 't:' }); // `apikey revoke`, another process
    const k = await cli.create({ scopes: ['read'] });
    assert.equal((await api.verify(k.key))?.id, k.id);
    assert.equal((await api.verify(k.key))?.id, k.id);
    assert.equal(counts.hgetall, 1, 'the second request is answered from the cache');
    assert.equal(await cli.revoke(k.id), true);
    now += 4999;
    assert.equal((await api.verify(k.key))?.id, k.id, 'still trusted inside the bound');
    now += 1;
    assert.equal(await api.verify(k.key), undefined, 'refused once the bound has passed');
    assert.equal(await api.verify(k.key), undefined, 'and stays refused');
  });

  it('forgets a key at once in the process that revokes it', async () => {
    const { redis } = fakeRedis();
    const api = new ApiKeyStore({ redis, prefix: 't:', cacheMs: 60_000, now: () => 0 });
    const k = await api.create({ scopes: ['read'] });
    assert.ok(await api.verify(k.key));
    await api.revoke(k.id);
    assert.equal(await api.verify(k.key), undefined);
  });

  it('never caches a wrong secret, and without cacheMs reads Redis on every call', async () => {
    const { redis, counts } = fakeRedis();
    const cached = new ApiKeyStore({ redis, prefix: 't:', cacheMs: 60_000, now: () => 0 });
    const k = await cached.create({ scopes: ['read'] });
    const forged = `${k.key.slice(0, -1)}${k.key.endsWith('A') ? 'B' : 'A'}`;
    assert.ok(await cached.verify(k.key));
    assert.equal(await cached.verify(forged), undefined, 'a cached id does not let another secret in');
    const plain = new ApiKeyStore({ redis, prefix: 't:' });
    counts.hgetall = 0;
    for (let i = 0; i < 3; i++) assert.ok(await plain.verify(k.key));
    assert.equal(counts.hgetall, 3);
  });

  it('keeps at most KEY_CACHE_ENTRIES keys, the oldest forgotten first', async () => {
    const { redis, counts } = fakeRedis();
    const api = new ApiKeyStore({ redis, prefix: 't:', cacheMs: 60_000, now: () => 0 });
    const keys = [];
    for (let i = 0; i <= KEY_CACHE_ENTRIES; i++) keys.push(await api.create({ scopes: ['read'] }));
    for (const k of keys) await api.verify(k.key);
    counts.hgetall = 0;
    await api.verify(keys.at(-1)!.key);
    assert.equal(counts.hgetall, 0, 'the newest is cached');
    await api.verify(keys[0]!.key);
    assert.equal(counts.hgetall, 1, 'the oldest was evicted and is read again');
  });

  it('rejects a cacheMs that is not a non-negative integer, naming it', () => {
    const { redis } = fakeRedis();
    assert.throws(() => new ApiKeyStore({ redis, prefix: 't:', cacheMs: -1 }), /cacheMs/);
  });
});
