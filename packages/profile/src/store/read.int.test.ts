/**
 * `read(pid, { complete: true })` (one round trip when `pid` is a live root with nothing merging into it) answers what
 * the step-by-step read answers: follow the alias, complete the merges pending into the root, follow it again, read.
 * Random customers linked by random events (merges), a stitcher crashed at a random step of a merge (a merge left
 * pending) in half the runs; every profile id, merged or not, and an unknown one, read both ways in a random order.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, test } from 'vitest';
import { Crash, Gates } from '../testing/gates.ts';
import { stitchItem, type TestEvent } from '../testing/identity-world.ts';
import type { GateStep } from './gate.ts';
import { IDENTIFIER_PRIORITY } from './keys.ts';
import { globEscape, scanKeys } from './scan.ts';
import { ProfileStore, type StoredProfile } from './store.ts';

const url = process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? 6379}`;
const redis = new Redis(url);
afterAll(() => redis.quit());
const CENTURY = 100 * 365 * 86_400_000;
const CRASH_STEPS: GateStep[] = ['merge:prepare', 'merge:seal', 'merge:absorb', 'merge:cleanup'];

/** The read as it was before the one-round-trip case: every step in turn. */
async function stepwise(store: ProfileStore, pid: string): Promise<StoredProfile | undefined> {
  let root = await store.root(pid);
  await store.resolver.completeAll(await store.resolver.pending([root]));
  root = await store.root(root);
  return store.read(root);
}

const idsArb = fc
  .record(
    {
      email: fc.constantFrom('a@x.com', 'b@x.com', 'c@x.com', 'd@x.com', 'e@x.com', 'f@x.com'),
      anonymous_id: fc.constantFrom('an1', 'an2', 'an3', 'an4', 'an5', 'an6', 'an7', 'an8'),
      user_id: fc.constantFrom('u1', 'u2', 'u3', 'u4'),
    },
    { requiredKeys: [] },
  )
  .filter((ids) => Object.keys(ids).length > 0);

test('read with complete answers what the step-by-step read answers, merges pending or not', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(idsArb, { minLength: 2, maxLength: 8 }),
      fc.option(fc.tuple(fc.constantFrom(...CRASH_STEPS), fc.nat(), fc.nat())),
      fc.infiniteStream(fc.boolean()),
      async (idSets, crash, order) => {
        const prefix = `t-read-${randomBytes(4).toString('hex')}:`;
        let t = 1_700_000_000_000;
        const open = (gate?: Gates) => new ProfileStore({ redis, prefix, windowMs: CENTURY, now: () => t++, ...(gate ? { gate: gate.gate } : {}) });
        const store = open();
        const event = (ids: TestEvent['ids'], i: number): TestEvent => ({ id: `e${i}`, at: 1_700_000_000_000 + i, amount: i + 1, ids });
        const made = new Set<string>();
        for (const [i, ids] of idSets.entries()) {
          const r = await store.stitch([stitchItem(event(ids, i))]);
          for (const f of r.folds) made.add(f.fold.profileId);
          await store.resolver.settle(r.merges); // as the stitcher does once the merges are announced
        }
        const roots = [...new Set(await Promise.all([...made].map((p) => store.root(p))))];
        if (crash && roots.length >= 2) {
          // An event carrying an identifier of each of two live profiles (a merge, unless a limit refuses it), by a
          // stitcher that dies at `step` of the merge: the store is left with the merge pending, as a dead stitcher leaves it.
          const [step, a, b] = crash;
          const ra = roots[a % roots.length]!;
          const rb = roots[(a + 1 + (b % (roots.length - 1))) % roots.length]!;
          const [ia, ib] = [await store.identity(ra), await store.identity(rb)];
          const ta = IDENTIFIER_PRIORITY.find((t) => ia[t].length > 0)!;
          const tb = IDENTIFIER_PRIORITY.find((t) => t !== ta && ib[t].length > 0);
          const gates = new Gates();
          gates.crash(step);
          const link = tb === undefined ? { [ta]: ia[ta][0] } : { [ta]: ia[ta][0], [tb]: ib[tb][0] };
          await open(gates)
            .stitch([stitchItem(event(link, 100))])
            .catch((err: unknown) => {
              if (!(err instanceof Crash)) throw err;
            });
        }
        const ids = [...made, 'p000000000unknown0000'];
        const it = order[Symbol.iterator]();
        for (const pid of ids) {
          // Whichever goes first completes the pending merges; both must see the profile with them completed.
          if (it.next().value) {
            const fast = await store.read(pid, { complete: true });
            assert.deepEqual(await stepwise(store, pid), fast, pid);
          } else {
            const slow = await stepwise(store, pid);
            assert.deepEqual(await store.read(pid, { complete: true }), slow, pid);
          }
        }
        const keys = await scanKeys(redis, `${globEscape(prefix)}*`); // SCAN: KEYS would block the shared Redis
        if (keys.length) await redis.del(...keys);
      },
    ),
    { numRuns: 100 },
  );
});
