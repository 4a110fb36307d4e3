// The Lua join (LUA_JOIN, run by Redis 7 on the real local stack) against the TS join.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import type { ProfileDoc } from './doc.ts';
import { eventFragment, foldEvents } from './fold.ts';
import { join } from './join.ts';
import { LUA_JOIN, LUA_JOIN_SCRIPT } from './lua.ts';
import { globEscape, scanKeys } from './store/scan.ts';
import { docArb, streamArb } from './testing/arbitraries.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:profile-lua:${randomUUID()}:`;
let redis: Redis;
let n = 0;

async function luaJoin(key: string, fragment: ProfileDoc): Promise<ProfileDoc> {
  return JSON.parse((await redis.eval(LUA_JOIN_SCRIPT, 1, key, JSON.stringify(fragment))) as string) as ProfileDoc;
}

describe('LUA_JOIN on the real Redis equals the TS join', () => {
  beforeAll(() => {
    redis = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2 });
  });
  afterAll(async () => {
    // SCAN, never KEYS: the stack's Redis is shared by every test running beside this one
    const keys = await scanKeys(redis, `${globEscape(prefix)}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('on random documents (fast-check): SET a, join b in Lua = join(a, b)', async () => {
    await fc.assert(
      fc.asyncProperty(docArb, docArb, async (a, b) => {
        const key = `${prefix}${n++}`;
        await redis.set(key, JSON.stringify(a));
        assert.deepEqual(await luaJoin(key, b), join(a, b));
        await redis.del(key);
      }),
      { numRuns: 500 },
    );
  });

  it('on event streams (fast-check): fragments joined in Lua in arrival order, de-duplicated, give the oracle', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb(25), async ([events, stream]) => {
        const key = `${prefix}${n++}`;
        const seen = new Set<string>();
        let doc: ProfileDoc = {};
        for (const e of stream) {
          if (seen.has(e.event.event_id)) continue;
          seen.add(e.event.event_id);
          doc = await luaJoin(key, eventFragment(e.topic, e.event, e.ids));
        }
        assert.deepEqual(doc, foldEvents(events));
        await redis.del(key);
      }),
      { numRuns: 150 },
    );
  });

  it("keeps integers exact beyond cjson's 14 significant digits", async () => {
    const key = `${prefix}${n++}`;
    const big = 4_503_599_627_370_495; // 2^52 - 1: 16 digits
    const doc = { transactions: { revenue_minor: { USD: big, EUR: -big, GBP: 0 } }, hw: 1_700_000_000_123 };
    const raw = (await redis.eval(LUA_JOIN_SCRIPT, 1, key, JSON.stringify(doc))) as string;
    assert.equal(raw, `{"hw":1700000000123,"transactions":{"revenue_minor":{"EUR":-${big},"GBP":0,"USD":${big}}}}`);
    assert.equal(await redis.eval('return cjson.encode(123456789012345)', 0), '1.2345678901234e+14'); // why ps_encode exists
    // 14 digits and below take cjson's fast path and stay exact
    const small = { hw: 99_999_999_999_999, activity: { last_search: { v: '1e+5', t: 1, id: 'x' } } };
    assert.deepEqual(JSON.parse((await redis.eval(LUA_JOIN_SCRIPT, 1, `${prefix}${n++}`, JSON.stringify(small))) as string), small);
    await redis.del(key);
  });

  it('the join chunk runs embedded in another script (Redis would refuse a chunk that sets globals)', async () => {
    const out = await redis.eval(`${LUA_JOIN}\nreturn ps_encode(ps_join(cjson.decode(ARGV[1]), cjson.decode(ARGV[2])))`, 0, '{}', '{}');
    assert.equal(out, '{}');
  });
});
