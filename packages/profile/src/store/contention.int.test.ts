/**
 * identity_contention on the real Redis: a fold whose target is merged away by another stitcher before every attempt
 * gives up after 64 rounds with the retriable `identity_contention` (the consume loop then retries the chunk) and has
 * applied nothing; once the merges stop, the retried chunk resolves to the survivor and folds there once.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { isProfileError } from '../errors.ts';
import type { Gate } from './gate.ts';
import { ProfileStore } from './store.ts';

const url = process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? 6379}`;
const redis = new Redis(url);
afterAll(() => redis.disconnect());

const ROUNDS = 64; // the store's limit on fold rounds
const LIMITS = { user_id: 1, email: ROUNDS + 8, phone: 5, anonymous_id: ROUNDS + 8 }; // a survivor collects every merged profile's identifiers

test('a fold that meets a concurrent merge before every attempt gives up with the retriable identity_contention, having applied nothing', async () => {
  const prefix = `t-contention-${randomBytes(4).toString('hex')}:`;
  const clock = { t: 1_800_000_000_000 };
  const now = () => clock.t++;
  // Another stitcher, deciding merges on the same Redis.
  const other = new ProfileStore({ redis, prefix, windowMs: 86_400_000, now, limits: LIMITS });
  // Customers 0..N, oldest first (profile ids are time-ordered: a merge's survivor is the older profile).
  const N = ROUNDS + 2;
  const pids: string[] = [];
  for (let i = 0; i <= N; i++) pids.push((await other.resolver.resolve({ email: `c${i}@x.com`, anonymous_id: `a${i}` })).profileId);
  assert.deepEqual([...pids].sort(), pids, 'older customers have smaller profile ids');

  // Before each fold attempt, the other stitcher sees an event linking the newest customer's e-mail with the next older
  // customer's device: the profile the fold is about to write to is merged into that older one.
  let next = N - 1;
  const merges: string[] = [];
  const mergeFirst: Gate = async (step) => {
    if (step !== 'fold' || next < 0) return;
    const r = await other.resolver.resolve({ email: `c${N}@x.com`, anonymous_id: `a${next--}` });
    merges.push(r.profileId);
  };
  const store = new ProfileStore({ redis, prefix, windowMs: 86_400_000, now, limits: LIMITS, gate: mergeFirst });
  const event = { event_id: 'e-1', occurred_at: clock.t, fragment: { hw: clock.t, transactions: { revenue_minor: { GBP: 500 } } } };

  await assert.rejects(store.fold(pids[N]!, [event]), (err: unknown) => {
    assert.ok(isProfileError(err, 'identity_contention'), `expected identity_contention, got ${String(err)}`);
    assert.equal(err.retriable, true);
    assert.match(err.message, new RegExp(`^fold into ${pids[N]} did not settle in ${ROUNDS} rounds$`));
    return true;
  });
  assert.equal(merges.length, ROUNDS, 'one concurrent merge per attempt');
  assert.deepEqual(merges, pids.slice(N - ROUNDS, N).reverse(), 'each merge moved the target to the next older customer');

  // The merges stop; the retried chunk resolves afresh (to the survivor) and the event is applied there, once.
  next = -1;
  const root = (await store.resolver.resolve({ email: `c${N}@x.com` })).profileId;
  assert.equal(root, merges.at(-1));
  const r = await store.fold(root, [event]);
  assert.deepEqual([r.profileId, r.applied, r.duplicates], [root, 1, 0]);
  assert.deepEqual(r.doc.transactions, { revenue_minor: { GBP: 500 } });
});
