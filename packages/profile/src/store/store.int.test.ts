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

test('the fold cache: a store that folds onto what it last wrote, while another store wrote meanwhile, joins again onto the stored document (compare-and-set), and gets every event', async () => {
  const prefix = `t-st-${randomBytes(4).toString('hex')}:`;
  const clock = { t: 1_800_000_000_000 };
  const now = () => clock.t++;
  const rounds: string[] = [];
  const cached = new ProfileStore({
    redis,
    prefix,
    windowMs: 30 * DAY,
    now,
    foldCacheSize: 100,
    foldCacheTtlMs: 60_000,
    onFoldRound: (base, result) => rounds.push(`${base} → ${result}`),
  });
  const other = new ProfileStore({ redis, prefix, windowMs: 30 * DAY, now });
  const pid = (await cached.resolver.resolve({ email: 'cas@x.com' })).profileId;
  const reads: string[] = [];
  let monitor: Redis | undefined; // a connection of its own (ioredis's monitor() opens one)
  try {
    const r1 = await cached.fold(pid, [order('a', clock.t, 1)]);
    assert.equal(r1.version, 1);
    // unseen by `cached`: its kept document is now a version behind
    const r2 = await other.fold(pid, [order('b', clock.t, 10)]);
    assert.equal(r2.version, 2);
    const r3 = await cached.fold(pid, [order('c', clock.t, 100)]);
    assert.equal(r3.version, 3);
    assert.deepEqual(r3.doc.transactions, { revenue_minor: { GBP: 111 } }, "the other store's event is in: the stale base was refused and joined again");
    const stored = JSON.parse((await redis.get(cached.keys.profile(pid).doc))!) as { transactions: unknown };
    assert.deepEqual(stored.transactions, { revenue_minor: { GBP: 111 } });
    // its own write is kept: the next fold needs no read (a GET of the document would show in MONITOR)
    monitor = await redis.monitor();
    monitor.on('monitor', (_t: string, args: string[]) => reads.push(args.join(' ')));
    const r4 = await cached.fold(pid, [order('d', clock.t, 1000)]);
    assert.deepEqual(r4.doc.transactions, { revenue_minor: { GBP: 1111 } });
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      reads.filter((c) => c.toLowerCase() === `get ${cached.keys.profile(pid).doc}`.toLowerCase()),
      [],
      'no read of the document before a fold onto what this store wrote',
    );
    // older than its time to live (foldCacheTtlMs): read again, not served from memory
    clock.t += 60_001;
    const r5 = await cached.fold(pid, [order('e', clock.t, 10_000)]);
    assert.deepEqual(r5.doc.transactions, { revenue_minor: { GBP: 11_111 } });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(
      reads.filter((c) => c.toLowerCase() === `get ${cached.keys.profile(pid).doc}`.toLowerCase()).length,
      1,
      'a kept document past its time to live is read again',
    );
    // and an expired document leaves memory, not only stops serving
    // every round reported, with where its base came from (ps_profile_fold_rounds_total)
    assert.deepEqual(rounds, ['read → written', 'kept → stale', 'reply → written', 'kept → written', 'read → written']);
    assert.equal(cached.keptDocuments(), 1);
    clock.t += 60_001;
    cached.pruneKept();
    assert.equal(cached.keptDocuments(), 0, 'pruned once older than its time to live');
  } finally {
    monitor?.disconnect();
  }
});

test('the fold cache: a profile erased or merged away since this store last wrote it is not folded onto its kept document', async () => {
  const { store, clock } = setup({ foldCacheSize: 100 });
  const a = (await store.resolver.resolve({ email: 'keep-a@x.com' })).profileId;
  await store.fold(a, [order('a1', clock.t, 1)]);
  await store.erase({ kind: 'profile_id', value: a }, { requestedBy: 'test', requestId: 'r1', reason: null, hash: (t, v) => `${t}:${v}` });
  await assert.rejects(store.fold(a, [order('a2', clock.t, 2)]), /erased/);
  // merged: the kept document of the merged profile is not the survivor's
  const u = (await store.resolver.resolve({ user_id: 'keep-u' })).profileId;
  const e = (await store.resolver.resolve({ email: 'keep-e@x.com' })).profileId;
  await store.fold(u, [order('u1', clock.t, 10)]);
  await store.fold(e, [order('e1', clock.t, 100)]);
  const { resolutions } = await store.stitch([
    { ids: { user_id: 'keep-u', email: 'keep-e@x.com' }, eventId: 'link', occurredAt: clock.t, fragment: () => ({ hw: clock.t }) },
  ]);
  const survivor = resolutions[0]!.profileId;
  const gone = survivor === u ? e : u;
  const r = await store.fold(gone, [order('late', clock.t, 1000)]);
  assert.equal(r.profileId, survivor, 'followed the alias');
  assert.deepEqual(r.doc.transactions, { revenue_minor: { GBP: 1110 } }, "the survivor's data, both profiles' orders and the late one");
});

test('two folds of one profile at once in one store: the second waits and folds onto what the first wrote (no read, no stale round)', async () => {
  const rounds: string[] = [];
  const { store, clock } = setup({ foldCacheSize: 100, onFoldRound: (base, result) => rounds.push(`${base} → ${result}`) });
  const pid = (await store.resolver.resolve({ email: 'twice@x.com' })).profileId;
  // Both start in the same turn: without one-at-a-time both would read version 0, and one would be refused as stale.
  const [a, b] = await Promise.all([store.fold(pid, [order('a', clock.t, 1)], { known: { version: 0, doc: {} } }), store.fold(pid, [order('b', clock.t, 10)])]);
  assert.deepEqual([a.version, b.version], [1, 2]);
  assert.deepEqual(b.doc.transactions, { revenue_minor: { GBP: 11 } });
  assert.deepEqual(rounds, ['known → written', 'kept → written']);
});
