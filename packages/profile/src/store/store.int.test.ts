/** The fold's de-duplication window and the store's bounded state, on the real Redis with a fake clock. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { Gates } from '../testing/gates.ts';
import { SEEN_PAGE } from './merge.ts';
import { ProfileStore, type ProfileStoreOptions } from './store.ts';

const url = process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? 6379}`;
const redis = new Redis(url);
afterAll(() => redis.disconnect());
const DAY = 86_400_000;

function setup(o: Partial<ProfileStoreOptions> = {}) {
  const clock = { t: 1_800_000_000_000 };
  const store = new ProfileStore({ redis, prefix: `t-st-${randomBytes(4).toString('hex')}:`, windowMs: 30 * DAY, now: () => clock.t++, ...o });
  return { store, clock };
}

const order = (id: string, at: number, amount = 100) => ({
  event_id: id,
  occurred_at: at,
  fragment: { hw: at, transactions: { revenue_minor: { GBP: amount } } },
});

test("the window is measured on arrival: an event a year older than the profile's newest is applied; its redelivery is not", async () => {
  const { store, clock } = setup();
  const pid = (await store.resolver.resolve({ email: 'w@x.com' })).profileId;
  await store.fold(pid, [order('new', clock.t)]);
  const old = await store.fold(pid, [order('offline-sync', clock.t - 365 * DAY)]);
  assert.deepEqual([old.applied, old.duplicates], [1, 0]);
  clock.t += 29 * DAY;
  const again = await store.fold(pid, [order('offline-sync', clock.t - 365 * DAY), order('new', clock.t)]);
  assert.deepEqual([again.applied, again.duplicates], [0, 2]);
  assert.deepEqual(again.doc.transactions, { revenue_minor: { GBP: 200 } });
});

test('one chunk spanning more than the window is applied whole', async () => {
  const { store, clock } = setup();
  const pid = (await store.resolver.resolve({ email: 'span@x.com' })).profileId;
  const r = await store.fold(pid, [order('a', clock.t - 400 * DAY), order('b', clock.t), order('c', clock.t - 100 * DAY)]);
  assert.equal(r.applied, 3);
});

test('a redelivery later than the window after its first arrival is applied again (why the window must outlast topic retention)', async () => {
  const { store, clock } = setup();
  const pid = (await store.resolver.resolve({ email: 'late@x.com' })).profileId;
  await store.fold(pid, [order('o1', clock.t)]);
  clock.t += 31 * DAY;
  await store.fold(pid, [order('o2', clock.t)]); // trims the window
  const r = await store.fold(pid, [order('o1', clock.t - 31 * DAY)]);
  assert.equal(r.applied, 1);
  assert.equal(await redis.zcard(store.keys.profile(pid).seen), 2, 'the window holds only what arrived within it');
});

test('a merge copies a seen window of any size in bounded pages; the merged profile keeps only its alias', async () => {
  const gates = new Gates();
  const { store, clock } = setup({ gate: gates.gate });
  const s = (await store.resolver.resolve({ user_id: 'big' })).profileId;
  const m = (await store.resolver.resolve({ email: 'big@x.com' })).profileId;
  const n = SEEN_PAGE * 2 + 17;
  await store.fold(
    m,
    Array.from({ length: n }, (_, i) => order(`m${i}`, clock.t, 1)),
  );
  await store.resolver.resolve({ user_id: 'big', email: 'big@x.com' });
  assert.equal(gates.trace.filter((x) => x === 'merge:copy-seen').length, 3, 'three pages');
  const after = await store.fold(
    s,
    Array.from({ length: n }, (_, i) => order(`m${i}`, clock.t, 1)),
  );
  assert.deepEqual([after.applied, after.duplicates], [0, n], 'every event of the merged profile is known to the survivor');
  assert.deepEqual(after.doc.transactions, { revenue_minor: { GBP: n } });
  assert.deepEqual(await redis.keys(`${store.keys.prefix}p:{${m}}:*`), [store.keys.profile(m).alias]);
  assert.deepEqual(after.mergedIds, [m]);
});

test('the merged set stays bounded by the identity limits: every absorbed profile brought an identifier', async () => {
  const { store, clock } = setup({ limits: { user_id: 1, email: 3, phone: 3, anonymous_id: 4 } });
  const root = (await store.resolver.resolve({ user_id: 'u' })).profileId;
  await store.fold(root, [order('u1', clock.t)]);
  for (let i = 0; i < 10; i++) await store.resolver.resolve({ anonymous_id: `d${i}` });
  for (let i = 0; i < 10; i++) await store.resolver.resolve({ user_id: 'u', anonymous_id: `d${i}` });
  const p = await store.read(root);
  assert.equal(p!.mergedIds.length, 4, 'four devices merged, six refused by the limit');
  assert.equal((await store.identity(root)).anonymous_id.length, 4);
});

test('a fold into a profile that waits for a merge helps finish it first', async () => {
  const gates = new Gates();
  const { store, clock } = setup();
  const other = new ProfileStore({ redis, prefix: store.keys.prefix, windowMs: 30 * DAY, now: () => clock.t++, gate: gates.gate });
  const s = (await store.resolver.resolve({ user_id: 'h' })).profileId;
  const m = (await store.resolver.resolve({ email: 'h@x.com' })).profileId;
  await store.fold(m, [order('m1', clock.t)]);
  gates.crash('merge:seal'); // the survivor was prepared, then the merging process died
  await assert.rejects(other.resolver.resolve({ user_id: 'h', email: 'h@x.com' }), /crashed at merge:seal/);
  const r = await store.fold(s, [order('m1', clock.t), order('s1', clock.t)]);
  assert.deepEqual([r.profileId, r.applied, r.duplicates], [s, 1, 1]);
  assert.deepEqual(r.doc.transactions, { revenue_minor: { GBP: 200 } });
});

test('a fold overtaken between its read and its write (another stitcher folded meanwhile) joins again on what is stored: nothing is lost', async () => {
  const prefix = `t-st-${randomBytes(4).toString('hex')}:`;
  const clock = { t: 1_800_000_000_000 };
  const now = () => clock.t++;
  const other = new ProfileStore({ redis, prefix, windowMs: 30 * DAY, now });
  const pid = (await other.resolver.resolve({ email: 'cas@x.com' })).profileId;
  await other.fold(pid, [order('first', clock.t, 100)]);
  // Each time this store is about to write, the other writes first: its base (read before the gate) is then stale.
  let overtakes = 2;
  const store = new ProfileStore({
    redis,
    prefix,
    windowMs: 30 * DAY,
    now,
    gate: async (step) => {
      if (step === 'fold' && overtakes > 0) await other.fold(pid, [order(`other-${overtakes--}`, clock.t, 10)]);
    },
  });
  const r = await store.fold(pid, [order('mine', clock.t, 1000)]);
  assert.deepEqual([r.applied, r.duplicates, r.version], [1, 0, 4], 'first, two overtaking folds, then this one');
  assert.deepEqual(r.doc.transactions, { revenue_minor: { GBP: 1120 } });
  const stored = await other.read(pid);
  assert.deepEqual(stored?.doc, r.doc, 'what the fold returns is what is stored');
  assert.equal(stored?.version, 4);
});

test("a profile the chunk's identity step created is folded without a read; if another writer got there first, the fold joins onto its document", async () => {
  const prefix = `t-st-${randomBytes(4).toString('hex')}:`;
  const clock = { t: 1_800_000_000_000 };
  const now = () => clock.t++;
  const other = new ProfileStore({ redis, prefix, windowMs: 30 * DAY, now });
  let raced = false;
  const store = new ProfileStore({
    redis,
    prefix,
    windowMs: 30 * DAY,
    now,
    gate: async (step, at) => {
      if (step !== 'fold' || raced) return;
      raced = true;
      await other.fold(String(at.profile), [order('theirs', clock.t, 7)]);
    },
  });
  const item = (id: string, amount: number) => ({
    ids: { email: 'new@x.com' },
    eventId: id,
    occurredAt: clock.t,
    fragment: () => ({ hw: clock.t, transactions: { revenue_minor: { GBP: amount } } }),
  });
  const chunk = await store.stitch([item('a', 100), item('b', 20)]);
  assert.equal(chunk.resolutions[0]!.created, true);
  assert.equal(chunk.folds.length, 1);
  assert.deepEqual(chunk.folds[0]!.fold.doc.transactions, { revenue_minor: { GBP: 127 } });
  assert.equal(chunk.folds[0]!.fold.version, 2);
});
