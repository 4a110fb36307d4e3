/**
 * The Redis implementation against the oracle, on the real Redis (fast-check): any arrival order, with
 * redeliveries, in any batching, spread over up to three profiles that are then merged (some redeliveries
 * arriving after the merge, through the alias), ends with exactly the oracle's profile document.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, test } from 'vitest';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { eventFragment, foldEvents } from '../fold.ts';
import { streamArb } from '../testing/arbitraries.ts';
import { globEscape, scanKeys } from './scan.ts';
import { ProfileStore } from './store.ts';

const url = process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? 6379}`;
const redis = new Redis(url);
afterAll(() => redis.quit());
const CENTURY = 100 * 365 * 86_400_000;

test('fold + merge in Redis equals the oracle for any order, duplicates, batching and split into profiles', async () => {
  await fc.assert(
    fc.asyncProperty(
      streamArb(25),
      fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 40, maxLength: 40 }),
      fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 40, maxLength: 40 }),
      fc.boolean(),
      async ([events, arrivals], owner, batchSizes, chain) => {
        const prefix = `t-prop-${randomBytes(4).toString('hex')}:`;
        let t = 1_700_000_000_000;
        const store = new ProfileStore({ redis, prefix, windowMs: CENTURY, now: () => t++ });
        // Three customers, created oldest first; merges are decided by events that link their identifiers.
        const idsOf = [{ email: 'e0@x.com' }, { phone: '+447700900001' }, { anonymous_id: 'a2' }];
        const pids: string[] = [];
        for (const ids of idsOf) pids.push((await store.resolver.resolve(ids)).profileId);
        // Each distinct event belongs to one profile (as identity resolution guarantees); redeliveries follow it.
        const ids = [...new Set(events.map((e) => e.event.event_id))];
        const profileOf = new Map(ids.map((id, i) => [id, pids[owner[i % owner.length]!]!]));
        // Hold some redeliveries back until after the merges.
        const late = arrivals.filter((_, i) => i % 5 === 4);
        const early = arrivals.filter((_, i) => i % 5 !== 4);
        let k = 0;
        const deliver = async (list: typeof arrivals) => {
          for (let i = 0; i < list.length; ) {
            const size = batchSizes[k++ % batchSizes.length]!;
            const batch = list.slice(i, i + size);
            i += size;
            const byProfile = new Map<string, typeof batch>();
            for (const e of batch) byProfile.set(profileOf.get(e.event.event_id)!, [...(byProfile.get(profileOf.get(e.event.event_id)!) ?? []), e]);
            for (const [pid, es] of byProfile) {
              await store.fold(
                pid,
                es.map((e) => ({ event_id: e.event.event_id, occurred_at: e.event.occurred_at, fragment: eventFragment(e.topic, e.event as never, e.ids) })),
              );
            }
          }
        };
        await deliver(early);
        if (chain) {
          await store.resolver.resolve({ ...idsOf[1], ...idsOf[2] });
          await store.resolver.resolve({ ...idsOf[0], ...idsOf[1] });
        } else {
          await store.resolver.resolve({ ...idsOf[0], ...idsOf[2] });
          await store.resolver.resolve({ ...idsOf[0], ...idsOf[1] });
        }
        await deliver(late);
        const stored = await store.read(pids[2]!);
        assert.equal(stored?.profileId ?? pids[0], pids[0], 'aliases lead to the oldest profile');
        assert.deepEqual(stored?.doc ?? {}, foldEvents(events) as unknown as Record<string, unknown>);
        // SCAN, never KEYS: the stack's Redis is shared by every test running beside this one
        const keys = await scanKeys(redis, `${globEscape(prefix)}*`);
        if (keys.length) await redis.del(...keys);
      },
    ),
    { numRuns: 150 },
  );
});
