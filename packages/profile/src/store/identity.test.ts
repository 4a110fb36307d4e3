/** Identity resolution on the real Redis (the local stack), each test under its own key prefix. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { IdentityResolver } from './identity.ts';
import { ProfileStore } from './store.ts';

const url = process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? 6379}`;
const clients: Redis[] = [];
after(() => clients.forEach((c) => c.disconnect()));

function setup(limits?: ConstructorParameters<typeof IdentityResolver>[0]['limits']) {
  const redis = new Redis(url);
  clients.push(redis);
  const prefix = `t-${randomBytes(4).toString('hex')}:`;
  const store = new ProfileStore({ redis, prefix, windowMs: 90 * 86_400_000 });
  return { redis, prefix, store, resolver: new IdentityResolver({ store, ...(limits ? { limits } : {}) }) };
}

test('the same identifiers always resolve to the same profile; a new one is attached to it', async () => {
  const { resolver, store } = setup();
  const a = await resolver.resolve({ anonymous_id: 'a1' });
  assert.equal(a.created, true);
  const b = await resolver.resolve({ anonymous_id: 'a1', email: 'alice@example.com' });
  assert.equal(b.profileId, a.profileId);
  assert.equal(b.created, false);
  const c = await resolver.resolve({ email: 'alice@example.com' });
  assert.equal(c.profileId, a.profileId);
  assert.deepEqual((await store.identity(a.profileId)).email, ['alice@example.com']);
});

test('a shared device seen with two user ids: the second user gets a profile of their own and the merge is refused', async () => {
  const { resolver, store } = setup();
  const u1 = await resolver.resolve({ user_id: 'u1', anonymous_id: 'shared-tablet' });
  const u2 = await resolver.resolve({ user_id: 'u2', anonymous_id: 'shared-tablet' });
  assert.notEqual(u2.profileId, u1.profileId);
  assert.equal(u2.created, true);
  assert.deepEqual(u2.refused, [{ target: u2.profileId, other: u1.profileId, matchedOn: 'anonymous_id', reason: 'limit_user_id' }]);
  assert.deepEqual((await store.identity(u1.profileId)).user_id, ['u1']);
  assert.deepEqual((await store.identity(u2.profileId)).user_id, ['u2']);
  assert.equal(await store.owner('anonymous_id', 'shared-tablet'), u1.profileId, 'the device stays with its first user');
});

test('three-way merge: anonymous, e-mail and phone profiles end as one, the oldest id survives', async () => {
  const { resolver, store } = setup();
  const p1 = await resolver.resolve({ anonymous_id: 'a1' });
  await new Promise((r) => setTimeout(r, 2)); // ids are time-ordered at ms resolution
  const p2 = await resolver.resolve({ email: 'bob@example.com' });
  await new Promise((r) => setTimeout(r, 2));
  const p3 = await resolver.resolve({ phone: '+447700900123' });
  const m1 = await resolver.resolve({ email: 'bob@example.com', anonymous_id: 'a1' });
  assert.equal(m1.profileId, p1.profileId);
  assert.deepEqual(m1.merges, [{ survivor: p1.profileId, merged: p2.profileId, matchedOn: 'anonymous_id' }]);
  const m2 = await resolver.resolve({ phone: '+447700900123', email: 'bob@example.com' });
  assert.equal(m2.profileId, p1.profileId);
  assert.deepEqual(m2.merges, [{ survivor: p1.profileId, merged: p3.profileId, matchedOn: 'phone' }]);
  for (const [t, v] of [['anonymous_id', 'a1'], ['email', 'bob@example.com'], ['phone', '+447700900123']] as const) {
    assert.equal(await store.owner(t, v), p1.profileId);
  }
  assert.equal(await store.root(p3.profileId), p1.profileId);
  const id = await store.identity(p1.profileId);
  assert.deepEqual([id.anonymous_id, id.email, id.phone], [['a1'], ['bob@example.com'], ['+447700900123']]);
});

test('two services seeing the same new e-mail at the same moment create one profile', async () => {
  const A = setup();
  const redisB = new Redis(url);
  clients.push(redisB);
  const storeB = new ProfileStore({ redis: redisB, prefix: A.prefix, windowMs: 90 * 86_400_000 });
  const B = new IdentityResolver({ store: storeB });
  for (let i = 0; i < 25; i++) {
    const ids = { email: `new-${i}@example.com`, anonymous_id: `dev-${i}` };
    const [ra, rb] = await Promise.all([A.resolver.resolve(ids), B.resolve({ email: ids.email })]);
    assert.equal(await A.store.root(ra.profileId), await A.store.root(rb.profileId), `round ${i}`);
    assert.equal([ra.created, rb.created].filter(Boolean).length, 1, 'exactly one of them created it');
  }
});

test('a merge interrupted after its alias was set is completed by the next resolution that follows the alias', async () => {
  const { resolver, store, redis } = setup();
  const older = await resolver.resolve({ email: 'x@example.com' });
  await new Promise((r) => setTimeout(r, 2));
  const newer = await resolver.resolve({ anonymous_id: 'dev-x' });
  await store.fold(newer.profileId, [{ event_id: 'e1', occurred_at: 1_700_000_000_000, fragment: { hw: 1_700_000_000_000 } }]);
  // Crash simulation: only the alias was written.
  await redis.set(store.keys.profile(newer.profileId).alias, older.profileId);
  const r = await resolver.resolve({ anonymous_id: 'dev-x' });
  assert.equal(r.profileId, older.profileId);
  const p = await store.read(older.profileId);
  assert.deepEqual(p?.mergedIds, [newer.profileId]);
  const again = await store.fold(older.profileId, [{ event_id: 'e1', occurred_at: 1_700_000_000_000, fragment: { hw: 1_700_000_000_000 } }]);
  assert.equal(again.duplicates, 1, 'the merged profile\'s seen events came along');
});

test('per-profile limits: a sixth e-mail is not attached (reported as dropped), the event still resolves', async () => {
  const { resolver } = setup();
  const first = await resolver.resolve({ user_id: 'u9', email: 'e0@example.com' });
  for (let i = 1; i < 5; i++) await resolver.resolve({ user_id: 'u9', email: `e${i}@example.com` });
  const sixth = await resolver.resolve({ user_id: 'u9', email: 'e5@example.com' });
  assert.equal(sixth.profileId, first.profileId);
  assert.deepEqual(sixth.dropped, [{ type: 'email', reason: 'limit_email' }]);
});

test('a merge interrupted after its alias was set, whose survivor was itself merged since, completes at the root', async () => {
  const { resolver, store, redis } = setup();
  const root = await resolver.resolve({ email: 'root@example.com' });
  await new Promise((r) => setTimeout(r, 2));
  const middle = await resolver.resolve({ phone: '+447700900999' });
  await new Promise((r) => setTimeout(r, 2));
  const leaf = await resolver.resolve({ anonymous_id: 'dev-leaf' });
  await store.fold(leaf.profileId, [{ event_id: 'leaf-1', occurred_at: 1_700_000_000_000, fragment: { hw: 1_700_000_000_000 } }]);
  // Crash simulation: leaf → middle was begun (alias only), then middle was merged into root.
  await redis.set(store.keys.profile(leaf.profileId).alias, middle.profileId);
  await store.merge(root.profileId, middle.profileId, []);
  const r = await resolver.resolve({ anonymous_id: 'dev-leaf' });
  assert.equal(r.profileId, root.profileId);
  const p = await store.read(root.profileId);
  assert.ok(p!.mergedIds.includes(leaf.profileId), 'the leaf was joined into the root');
  const again = await store.fold(root.profileId, [{ event_id: 'leaf-1', occurred_at: 1_700_000_000_000, fragment: { hw: 1_700_000_000_000 } }]);
  assert.equal(again.duplicates, 1);
});
