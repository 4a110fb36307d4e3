/**
 * Erasure on the real Redis (erase.ts): a merged customer leaves only tombstones and an audit record without PII; a
 * second erase answers the original audit id; a later event starts a new profile, also through a stitcher whose
 * resolution cache still maps the identifiers to the erased profile; and the interleavings with a concurrent fold
 * (before the tombstone: erased with the rest; after: refused and resolved again) and with a merge left half-done.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, describe, test } from 'vitest';
import { Redis } from 'ioredis';
import { isProfileError } from '../errors.ts';
import { normalisePhone, phoneSpellingsKept } from '../normalise.ts';
import { Crash, Gates } from '../testing/gates.ts';
import { AccountStore } from './accounts.ts';
import type { EraseRequest } from './erase.ts';
import type { Gate } from './gate.ts';
import type { Identifiers } from './identity.ts';
import { scanKeys } from './scan.ts';
import { ProfileStore } from './store.ts';

const url = process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? 6379}`;
const clients: Redis[] = [];
afterAll(async () => {
  for (const c of clients) c.disconnect();
});

const KEY = 'erase-test-key-0123456789';
const hash = (type: string, value: string) => createHmac('sha256', KEY).update(`${type}:${value}`).digest('hex');
const req = (o: Partial<EraseRequest> = {}): EraseRequest => ({ requestedBy: 'key-1', requestId: 'req-1', reason: 'gdpr_request', hash, ...o });

function world() {
  const prefix = `t-er-${randomBytes(4).toString('hex')}:`;
  let t = 1_700_000_000_000;
  const now = () => t++;
  const open = (o: { gate?: Gate; cache?: number; foldCache?: number } = {}) => {
    const redis = new Redis(url);
    clients.push(redis);
    return new ProfileStore({
      redis,
      prefix,
      windowMs: 86_400_000,
      now,
      identityCacheSize: o.cache ?? 0,
      foldCacheSize: o.foldCache ?? 0,
      ...(o.gate ? { gate: o.gate } : {}),
    });
  };
  const store = open();
  const redis = clients[clients.length - 1]!;
  let n = 0;
  const event = (ids: Identifiers) => ({ ids, eventId: `e${++n}`, occurredAt: 1_700_000_000_000 + n, fragment: () => ({ hw: n, identity: { tag: ids } }) });
  return {
    prefix,
    open,
    store,
    redis,
    /** A stitcher's chunk: resolve, fold, settle; the profile each event went to. */
    async stitch(s: ProfileStore, ...sets: Identifiers[]) {
      const r = await s.stitch(sets.map(event));
      await s.resolver.settle(r.merges);
      return r.resolutions.map((x) => x.profileId);
    },
    /** Every key under the prefix with its value(s) as text. */
    async dump(): Promise<Map<string, string>> {
      const out = new Map<string, string>();
      for (const k of await scanKeys(redis, `${prefix}*`)) {
        const type = await redis.type(k);
        const v =
          type === 'string'
            ? await redis.get(k)
            : type === 'hash'
              ? JSON.stringify(await redis.hgetall(k))
              : type === 'set'
                ? JSON.stringify(await redis.smembers(k))
                : type === 'zset'
                  ? JSON.stringify(await redis.zrange(k, 0, -1))
                  : JSON.stringify(await redis.xrange(k, '-', '+'));
        out.set(k, String(v));
      }
      return out;
    },
  };
}

describe('erase', () => {
  test('an erased contact leaves every account it was counted in (B2B accounts); the other contacts stay', async () => {
    const w = world();
    const [pid] = await w.stitch(w.store, { email: 'carol@example.com' });
    const [other] = await w.stitch(w.store, { email: 'dan@example.com' });
    const accounts = new AccountStore(w.redis, w.prefix);
    const section = { account: { id: { v: 'acct-1', t: 2, id: 'e2' }, seen: { 'acct-0': 1, 'acct-1': 2 } } };
    // the contact's document names its account and one it was seen with before
    const key = w.store.keys.profile(pid!).doc;
    await w.redis.set(key, JSON.stringify({ ...JSON.parse((await w.redis.get(key))!), ...section }));
    const folded = (p: string) => ({ profileId: p, version: 1, doc: { hw: 1, ...section }, mergedIds: [] });
    await accounts.apply([folded(pid!), folded(other!)], 0);
    await w.redis.hset(accounts.contactsKey('acct-0'), pid!, JSON.stringify({ version: 0, t: 1, id: 'e1' }));
    assert.deepEqual((await accounts.view('acct-1', 0))?.contacts.sort(), [pid, other].sort());

    await w.store.erase({ kind: 'email', value: 'carol@example.com' }, req());
    assert.deepEqual((await accounts.view('acct-1', 0))?.contacts, [other]);
    assert.equal(await w.redis.hexists(accounts.contactsKey('acct-0'), pid!), 0);
  });

  test('a merged customer: only tombstones and the audit record stay, none holds an identifier; again → the same audit id', async () => {
    const w = world();
    const [a] = await w.stitch(w.store, { email: 'ada@example.com', anonymous_id: 'anon-1' });
    const [b] = await w.stitch(w.store, { user_id: 'u-ada', anonymous_id: 'anon-2' });
    const [root] = await w.stitch(w.store, { user_id: 'u-ada', email: 'ada@example.com' });
    const merged = root === a ? b! : a!;
    const [other] = await w.stitch(w.store, { email: 'bob@example.com' });

    const e = await w.store.erase({ kind: 'email', value: 'ada@example.com' }, req());
    assert.ok(e);
    assert.equal(e.outcome, 'erased');
    assert.equal(e.record.profile_id, root);
    assert.deepEqual(e.record.merged_ids, [merged]);
    const ids = ['email:ada@example.com', 'anonymous_id:anon-1', 'user_id:u-ada', 'anonymous_id:anon-2'];
    assert.deepEqual(e.record.identifier_hashes, ids.map((i) => hash(i.slice(0, i.indexOf(':')), i.slice(i.indexOf(':') + 1))).sort());
    assert.equal(e.record.counts?.identifiers, 4);
    assert.equal(e.record.counts?.merged_profiles, 1);
    assert.ok((e.record.counts?.keys ?? 0) >= 4 + 1 + 3, `identifier keys, the identifier set and the profile keys: ${e.record.counts?.keys}`);

    const dump = await w.dump();
    for (const [k, v] of dump) {
      for (const secret of ['ada@example.com', 'anon-1', 'anon-2', 'u-ada']) assert.ok(!k.includes(secret) && !v.includes(secret), `${k} holds ${secret}`);
    }
    const left = [...dump.keys()].filter((k) => k.includes(`{${root}}`) || k.includes(`{${merged}}`)).sort();
    assert.deepEqual(left, [w.store.keys.profile(root!).erased, w.store.keys.profile(merged).erased].sort(), 'only the tombstones');
    assert.ok(await w.store.read(other!), 'another customer is untouched');
    assert.equal(await w.store.owner('email', 'bob@example.com'), other);

    const audit = await w.store.eraser.audit(e.record.audit_id);
    assert.equal(audit?.state, 'erased');
    const log = await w.redis.xrange(w.store.keys.auditLog, '-', '+');
    assert.equal(log.length, 1);
    assert.ok(log[0]![1].includes(e.record.audit_id) && log[0]![1].includes('key-1') && log[0]![1].includes('req-1'));

    // Again, by every way of naming it: the original audit id.
    for (const ref of [
      { kind: 'profile_id', value: root! },
      { kind: 'profile_id', value: merged },
      { kind: 'email', value: 'ada@example.com' },
      { kind: 'user_id', value: 'u-ada' },
    ] as const) {
      const again = await w.store.erase(ref, req({ requestedBy: 'someone-else' }));
      assert.equal(again?.outcome, 'already', ref.kind);
      assert.equal(again?.record.audit_id, e.record.audit_id, ref.kind);
      assert.equal(again?.record.requested_by, 'key-1');
    }
    assert.equal((await w.redis.xrange(w.store.keys.auditLog, '-', '+')).length, 1, 'one audit record');
    assert.equal(await w.store.erase({ kind: 'email', value: 'nobody@example.com' }, req()), undefined);
    assert.equal(await w.store.erase({ kind: 'profile_id', value: 'p0000000000000000000' }, req()), undefined);
    // A profile an identifier resolved to before any fold is erased too (its identifiers are in the index).
    const bare = (await w.store.resolver.resolve({ phone: '+447700900999' })).profileId;
    assert.equal((await w.store.erase({ kind: 'phone', value: '+447700900999' }, req()))?.record.profile_id, bare);
    assert.equal(await w.store.owner('phone', '+447700900999'), undefined);

    // A later event with the same identifiers: a new profile; the erased one stays erased.
    const [fresh] = await w.stitch(w.store, { email: 'ada@example.com' });
    assert.notEqual(fresh, root);
    assert.equal(await w.redis.exists(w.store.keys.profile(root!).doc), 0);
    await assert.rejects(w.store.fold(root!, [{ event_id: 'late', occurred_at: 1, fragment: {} }]), (err: unknown) => isProfileError(err, 'profile_erased'));
    assert.equal(await w.redis.exists(w.store.keys.profile(root!).doc), 0, 'a fold into an erased profile writes nothing');
  });

  test('a stitcher whose cache maps the identifiers to the erased profile makes a new one (event → erase → event)', async () => {
    const w = world();
    const stitcher = w.open({ cache: 100 });
    const [pid] = await w.stitch(stitcher, { email: 'cache@example.com', anonymous_id: 'a-c' });
    await w.stitch(stitcher, { email: 'cache@example.com', anonymous_id: 'a-c' });
    const hits = stitcher.resolver.cacheHits;
    assert.equal(hits, 1, 'the second event was resolved from the cache');
    await w.store.erase({ kind: 'profile_id', value: pid! }, req());
    const [next] = await w.stitch(stitcher, { email: 'cache@example.com', anonymous_id: 'a-c' });
    assert.notEqual(next, pid);
    assert.equal(stitcher.resolver.cacheHits, hits + 1, 'the cache answered the erased profile first');
    assert.equal(await w.store.owner('email', 'cache@example.com'), next);
    assert.equal(await w.redis.exists(w.store.keys.profile(pid!).doc, w.store.keys.profile(pid!).meta), 0, 'not resurrected');
    // The cache now holds the new profile.
    const [third] = await w.stitch(stitcher, { email: 'cache@example.com', anonymous_id: 'a-c' });
    assert.equal(third, next);
  });

  test("a stitcher that hears the erasure (forgetErased) lets go of the customer's identifiers, document and phone spellings; others stay", async () => {
    const w = world();
    const stitcher = w.open({ cache: 100, foldCache: 100 });
    const ada = { email: 'ada.forget@example.com', phone: '+44 20 7946 0000' };
    const bob = { email: 'bob.keep@example.com', anonymous_id: 'a-bob' };
    assert.equal(normalisePhone(ada.phone, 'GB'), '+442079460000');
    assert.ok(phoneSpellingsKept() > 0);
    const [pid, other] = await w.stitch(stitcher, { email: ada.email, phone: '+442079460000' }, bob);
    assert.equal(stitcher.keptDocuments(), 2);
    const cached = stitcher.resolver.cachedResolutions;
    await w.store.erase({ kind: 'profile_id', value: pid! }, req());
    assert.deepEqual(stitcher.forgetErased([pid!]), { resolutions: 1, documents: 1 });
    assert.equal(stitcher.resolver.cachedResolutions, cached - 1);
    assert.equal(stitcher.keptDocuments(), 1);
    assert.equal(phoneSpellingsKept(), 0, 'phone spellings cannot be told apart by profile: all of them go');
    // Bob is still answered from the cache and his document kept; Ada's identifiers are asked of the index again.
    const hits = stitcher.resolver.cacheHits;
    const misses = stitcher.resolver.cacheMisses;
    assert.deepEqual(await w.stitch(stitcher, bob), [other]);
    assert.equal(stitcher.resolver.cacheHits, hits + 1);
    const [again] = await w.stitch(stitcher, { email: ada.email, phone: '+442079460000' });
    assert.notEqual(again, pid);
    assert.equal(stitcher.resolver.cacheMisses, misses + 1);
    assert.deepEqual(stitcher.forgetErased(['never-seen']), { resolutions: 0, documents: 0 }, 'an unknown profile takes nothing');
  });

  test('a fold before the tombstone is erased with the profile; one after it is refused and goes to a new profile', async () => {
    const w = world();
    const [pid] = await w.stitch(w.store, { email: 'race@example.com' });
    const gates = new Gates();
    const eraser = w.open({ gate: gates.gate });
    const before = gates.pause('erase:tombstone');
    const erasing = eraser.erase({ kind: 'profile_id', value: pid! }, req());
    await before.reached;
    // Frozen: a stitcher resolving now does not get the erased profile; one holding its id folds into it (no tombstone yet).
    const [during] = await w.stitch(w.store, { email: 'race@example.com' });
    assert.notEqual(during, pid, 'the frozen profile owns nothing for the resolve script');
    await w.store.fold(pid!, [{ event_id: 'before-tombstone', occurred_at: 5, fragment: { hw: 5 } }]);
    before.release();
    const e = await erasing;
    assert.equal(e?.outcome, 'erased');
    assert.equal(await w.redis.exists(w.store.keys.profile(pid!).doc), 0, 'the fold that came first is erased too');
    assert.equal(await w.store.owner('email', 'race@example.com'), during, 'the new owner keeps the identifier');

    // After the tombstone: a stitcher that resolved before the erase is refused at its fold and resolves again.
    const [p2] = await w.stitch(w.store, { email: 'late@example.com' });
    const sg = new Gates();
    const stitcher = w.open({ gate: sg.gate });
    const atFold = sg.pause('fold');
    const chunk = stitcher.stitch([{ ids: { email: 'late@example.com' }, eventId: 'x1', occurredAt: 9, fragment: () => ({ hw: 9 }) }]);
    await atFold.reached;
    await w.store.erase({ kind: 'profile_id', value: p2! }, req());
    atFold.release();
    const r = await chunk;
    assert.notEqual(r.resolutions[0]!.profileId, p2);
    assert.deepEqual(
      r.folds.map((f) => f.fold.profileId),
      [r.resolutions[0]!.profileId],
    );
    assert.ok(sg.trace.filter((s) => s === 'resolve').length === 2, `resolved twice: ${sg.trace.join(' ')}`);
    assert.equal(await w.redis.exists(w.store.keys.profile(p2!).doc), 0);
  });

  test('a merge left half-done is completed first: the merged profile is erased with the root', async () => {
    const w = world();
    await w.stitch(w.store, { email: 'm1@example.com' });
    await w.stitch(w.store, { user_id: 'u-m' });
    const gates = new Gates();
    const crasher = w.open({ gate: gates.gate });
    gates.crash('merge:absorb');
    await assert.rejects(w.stitch(crasher, { user_id: 'u-m', email: 'm1@example.com' }), (err: unknown) => err instanceof Crash);
    const pending = await w.store.resolver.pending();
    assert.equal(pending.length, 1, 'the merge is decided, its data move not done');
    const e = await w.store.erase({ kind: 'user_id', value: 'u-m' }, req());
    assert.equal(e?.record.profile_id, pending[0]!.root);
    assert.deepEqual(e?.record.merged_ids, [pending[0]!.merged]);
    assert.deepEqual(await w.store.resolver.pending(), [], 'the journal entry is gone');
    for (const k of (await w.dump()).keys()) assert.ok(!k.includes(`{${pending[0]!.merged}}`) || k.endsWith(':erased'), `${k} left`);
  });

  test('an erase cut short is continued by the next one, under the same audit id', async () => {
    const w = world();
    const [pid] = await w.stitch(w.store, { email: 'cut@example.com' });
    const gates = new Gates();
    gates.crash('erase:forget');
    await assert.rejects(w.open({ gate: gates.gate }).erase({ kind: 'profile_id', value: pid! }, req()), (err: unknown) => err instanceof Crash);
    const again = await w.store.erase({ kind: 'profile_id', value: pid! }, req());
    assert.equal(again?.outcome, 'already');
    assert.equal(again?.published, false);
    assert.equal(await w.store.owner('email', 'cut@example.com'), undefined);
    assert.equal(await w.redis.exists(w.store.keys.profile(pid!).doc), 0);
    await w.store.eraser.published(again!.record.audit_id);
    assert.equal((await w.store.erase({ kind: 'email', value: 'cut@example.com' }, req()))?.published, true);
  });
});
