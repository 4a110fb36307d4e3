/**
 * eraseRef (the erase the API route and the CLI share) on the real Redis, with a publish that fails once: Redis is
 * erased before anything is published, the failed publish fails the call, and the next erase of the same ref publishes
 * the same record (then never again).
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { type ErasureRecord, type IdentifierType, ProfileStore } from '@profile-stream/profile';
import { eraseRef } from './erase.ts';

const redis = new Redis(process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? 6379}`);
afterAll(() => redis.disconnect());

test('Redis is erased before publishing; a failed publish fails the call and the next erase publishes the same record', async () => {
  const store = new ProfileStore({ redis, prefix: `t-erapi-${randomBytes(4).toString('hex')}:`, windowMs: 86_400_000 });
  const { profileId } = await store.resolver.resolve({ email: 'pub@example.com' });
  await store.fold(profileId, [{ event_id: 'e1', occurred_at: 1, fragment: { hw: 1 } }]);
  const published: ErasureRecord[] = [];
  let fail = true;
  const deps = {
    store,
    normalise: { defaultRegion: 'GB', blocklist: new Set<string>() },
    hash: (type: IdentifierType, value: string) => createHmac('sha256', 'k'.repeat(16)).update(`${type}:${value}`).digest('hex'),
    async publish(r: ErasureRecord) {
      if (fail) throw new Error('broker unavailable');
      published.push(r);
    },
  };
  const who = { requestedBy: 'key-1', requestId: 'r1', reason: null };
  await assert.rejects(eraseRef(deps, 'email:pub@example.com', who), /broker unavailable/);
  assert.equal(await store.owner('email', 'pub@example.com'), undefined, 'erased in Redis before publishing');
  assert.equal(await store.read(profileId), undefined);

  fail = false;
  const retry = await eraseRef(deps, 'email:PUB@example.com', { ...who, requestId: 'r2' });
  assert.equal(retry.erased, 'already');
  assert.equal(retry.request_id, 'r1', 'the original record');
  assert.equal(published.length, 1, 'published by the retry');
  assert.equal(published[0]!.audit_id, retry.audit_id);
  assert.equal(published[0]!.identifier_hashes.length, 1);

  const again = await eraseRef(deps, profileId, { ...who, requestId: 'r3' });
  assert.equal(again.audit_id, retry.audit_id);
  assert.equal(published.length, 1, 'published once');
  await assert.rejects(eraseRef(deps, 'email:other@example.com', who), (err: unknown) => (err as { code?: string }).code === 'not_found');
  await assert.rejects(eraseRef(deps, 'email:no-at-sign', who), (err: unknown) => (err as { code?: string }).code === 'invalid_ref');
});
