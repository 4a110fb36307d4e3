/** Identity resolution on the real Redis (the local stack), each test under its own key prefix. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { snapshot, violations } from '../testing/invariants.ts';
import { RESOLVE_CALL_SETS, type ResolveItem } from './identity.ts';
import { ProfileStore, type ProfileStoreOptions } from './store.ts';

const url = process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? 6379}`;
const clients: Redis[] = [];
afterAll(() => {
  for (const c of clients) c.disconnect();
});
const WINDOW = 90 * 86_400_000;

/** A store on its own prefix, with a clock that moves 1 ms per reading (profile ids are time-ordered). */
function setup(o: Partial<ProfileStoreOptions> = {}) {
  const redis = new Redis(url);
  clients.push(redis);
  let t = 1_700_000_000_000;
  const store = new ProfileStore({ redis, prefix: `t-${randomBytes(4).toString('hex')}:`, windowMs: WINDOW, now: () => t++, ...o });
  return { redis, store, resolver: store.resolver };
}

async function assertInvariants(redis: Redis, store: ProfileStore): Promise<void> {
  assert.deepEqual(violations(await snapshot(redis, store.keys), { settled: true }), []);
}

test('the same identifiers always resolve to the same profile; a new one is attached to it', async () => {
  const { resolver, store, redis } = setup();
  const a = await resolver.resolve({ anonymous_id: 'a1' });
  assert.equal(a.created, true);
  const b = await resolver.resolve({ anonymous_id: 'a1', email: 'alice@example.com' });
  assert.equal(b.profileId, a.profileId);
  assert.equal(b.created, false);
  const c = await resolver.resolve({ email: 'alice@example.com' });
  assert.equal(c.profileId, a.profileId);
  assert.deepEqual((await store.identity(a.profileId)).email, ['alice@example.com']);
  await assertInvariants(redis, store);
});

test('a shared device seen with two user ids: the second user gets a profile of their own and the merge is refused (and logged)', async () => {
  const { resolver, store, redis } = setup();
  const u1 = await resolver.resolve({ user_id: 'u1', anonymous_id: 'shared-tablet' });
  const u2 = await resolver.resolve({ user_id: 'u2', anonymous_id: 'shared-tablet' }, { eventId: 'e2' });
  assert.notEqual(u2.profileId, u1.profileId);
  assert.equal(u2.created, true);
  assert.deepEqual(u2.refused, [{ target: u2.profileId, other: u1.profileId, matchedOn: 'anonymous_id', reason: 'limit_user_id' }]);
  assert.deepEqual((await store.identity(u1.profileId)).user_id, ['u1']);
  assert.deepEqual((await store.identity(u2.profileId)).user_id, ['u2']);
  assert.equal(await store.owner('anonymous_id', 'shared-tablet'), u1.profileId, 'the device stays with its first user');
  const log = await redis.xrange(store.keys.mergeLog, '-', '+');
  assert.deepEqual(
    log.map(([, f]) => f),
    [['outcome', 'refused', 'target', u2.profileId, 'other', u1.profileId, 'matched_on', 'anonymous_id', 'reason', 'limit_user_id', 'trigger', 'e2']],
  );
  await assertInvariants(redis, store);
});

test('three-way merge: anonymous, e-mail and phone profiles end as one, the oldest id survives, the merged keep only an alias', async () => {
  const { resolver, store, redis } = setup();
  const p1 = await resolver.resolve({ anonymous_id: 'a1' });
  const p2 = await resolver.resolve({ email: 'bob@example.com' });
  const p3 = await resolver.resolve({ phone: '+447700900123' });
  await store.fold(p2.profileId, [{ event_id: 'e2', occurred_at: 1, fragment: { hw: 1, activity: { events: { x: 1 } } } }]);
  await store.fold(p3.profileId, [{ event_id: 'e3', occurred_at: 2, fragment: { hw: 2, activity: { events: { x: 1 } } } }]);
  const m1 = await resolver.resolve({ email: 'bob@example.com', anonymous_id: 'a1' }, { eventId: 'link-1' });
  assert.equal(m1.profileId, p1.profileId);
  assert.deepEqual(m1.merges, [{ survivor: p1.profileId, merged: p2.profileId, matchedOn: 'anonymous_id' }]);
  const m2 = await resolver.resolve({ phone: '+447700900123', email: 'bob@example.com' });
  assert.equal(m2.profileId, p1.profileId);
  assert.deepEqual(m2.merges, [{ survivor: p1.profileId, merged: p3.profileId, matchedOn: 'phone' }]);
  for (const [t, v] of [
    ['anonymous_id', 'a1'],
    ['email', 'bob@example.com'],
    ['phone', '+447700900123'],
  ] as const) {
    assert.equal(await store.owner(t, v), p1.profileId);
  }
  assert.equal(await store.root(p3.profileId), p1.profileId);
  const id = await store.identity(p1.profileId);
  assert.deepEqual([id.anonymous_id, id.email, id.phone], [['a1'], ['bob@example.com'], ['+447700900123']]);
  const p = await store.read(p3.profileId);
  assert.equal(p?.profileId, p1.profileId);
  assert.deepEqual(p?.mergedIds, [p2.profileId, p3.profileId].sort());
  assert.deepEqual(p?.doc, { hw: 2, activity: { events: { x: 2 } } });
  for (const m of [p2.profileId, p3.profileId]) {
    const keys = await redis.keys(`${store.keys.prefix}p:{${m}}:*`);
    assert.deepEqual(keys, [store.keys.profile(m).alias], `${m} keeps only its alias`);
  }
  assert.equal((await redis.keys(`${store.keys.index}ids:${p2.profileId}:*`)).length, 0, "the merged profile's identifier sets moved");
  await assertInvariants(redis, store);
});

test('per-profile limits: a sixth e-mail is not attached (reported as dropped), the event still resolves', async () => {
  const { resolver, store, redis } = setup();
  const first = await resolver.resolve({ user_id: 'u9', email: 'e0@example.com' });
  for (let i = 1; i < 5; i++) await resolver.resolve({ user_id: 'u9', email: `e${i}@example.com` });
  const sixth = await resolver.resolve({ user_id: 'u9', email: 'e5@example.com' });
  assert.equal(sixth.profileId, first.profileId);
  assert.deepEqual(sixth.dropped, [{ type: 'email', reason: 'limit_email' }]);
  assert.equal(await store.owner('email', 'e5@example.com'), undefined);
  await assertInvariants(redis, store);
});

test('a merge that would break a limit is refused: both customers stay whole', async () => {
  const { resolver, store, redis } = setup({ limits: { user_id: 1, email: 2, phone: 5, anonymous_id: 100 } });
  const a = await resolver.resolve({ email: 'a1@x.com', anonymous_id: 'da' });
  await resolver.resolve({ email: 'a2@x.com', anonymous_id: 'da' });
  const b = await resolver.resolve({ email: 'b1@x.com', phone: '+447700900555' });
  const link = await resolver.resolve({ email: 'a1@x.com', phone: '+447700900555' });
  assert.equal(link.profileId, a.profileId);
  assert.deepEqual(link.refused, [{ target: a.profileId, other: b.profileId, matchedOn: 'phone', reason: 'limit_email' }]);
  assert.deepEqual((await store.identity(a.profileId)).email, ['a1@x.com', 'a2@x.com']);
  await assertInvariants(redis, store);
});

test('the identity cache: a hit skips the identity index and returns the root it resolved to', async () => {
  const { resolver } = setup({ identityCacheSize: 10 });
  const a = await resolver.resolve({ email: 'c@x.com' });
  const before = resolver.cacheMisses;
  const b = await resolver.resolve({ email: 'c@x.com' });
  assert.equal(b.profileId, a.profileId);
  assert.equal(resolver.cacheMisses, before);
  assert.equal(resolver.cacheHits, 1);
});

test('a key prefix with braces is refused (it would change the hash tags)', () => {
  assert.throws(() => new ProfileStore({ redis: new Redis(url, { lazyConnect: true }), prefix: 'a{b}:', windowMs: 1 }), { code: 'invalid_options' });
});

test('a chunk of more identifier sets than one script call takes: the calls in order give what one set at a time gives', async () => {
  const { resolver, store, redis } = setup();
  const one = setup();
  const n = RESOLVE_CALL_SETS + 50;
  const items: ResolveItem[] = [];
  for (let i = 0; i < n; i++) items.push({ ids: { email: `c${i}@x.com` }, eventId: `new-${i}` });
  // Each customer's device, then pairs of customers linked by a shared phone, across the calls' boundaries.
  for (let i = 0; i < n; i++) items.push({ ids: { email: `c${i}@x.com`, anonymous_id: `d${i}` }, eventId: `dev-${i}` });
  for (let i = 0; i < n - 1; i += 2) {
    items.push({ ids: { email: `c${i}@x.com`, phone: `+4477009${String(i).padStart(5, '0')}` }, eventId: `ph-a-${i}` });
    items.push({ ids: { anonymous_id: `d${i + 1}`, phone: `+4477009${String(i).padStart(5, '0')}` }, eventId: `ph-b-${i}` });
  }
  // Then every customer again, in later calls: their roots have merges the earlier calls left pending.
  for (let i = 0; i < n; i++)
    items.push({ ids: { email: `c${i}@x.com`, anonymous_id: `d${i}`, phone: `+4477009${String(i - (i % 2)).padStart(5, '0')}` }, eventId: `again-${i}` });
  assert.ok(items.length > 4 * RESOLVE_CALL_SETS, 'several calls');
  const chunk = await resolver.resolveMany(items);
  await resolver.settle(chunk.merges);
  for (const item of items) await one.resolver.resolve(item.ids, { eventId: item.eventId! });

  // The same customers: every identifier's root holds the same identifiers in both stores.
  const partition = async (s: ProfileStore) => {
    const byRoot = new Map<string, string[]>();
    for (let i = 0; i < n; i++) {
      const root = (await s.owner('email', `c${i}@x.com`))!;
      byRoot.set(root, [...(byRoot.get(root) ?? []), `c${i}`]);
      assert.equal(await s.owner('anonymous_id', `d${i}`), root, `d${i} with c${i}`);
    }
    return [...byRoot.values()].map((m) => m.join(',')).sort();
  };
  const merged = await partition(store);
  assert.deepEqual(merged, await partition(one.store));
  assert.equal(merged.length, Math.ceil(n / 2), 'each pair is one customer');
  assert.equal(new Set(chunk.merges.map((m) => m.merged)).size, chunk.merges.length, 'each merge reported once');
  assert.equal(chunk.merges.length, Math.floor(n / 2));
  await assertInvariants(redis, store);
});
