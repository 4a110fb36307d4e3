/**
 * The profile API's membership routes on the real Redis: customers folded into profiles as the stitchers fold them,
 * their memberships decided and written by the segmenter's own path (decide + MembershipStore.apply), then
 * `/v1/profiles/:ref/segments` (since when, why) and `/v1/segments/:id/members` (every member over the cursor pages)
 * through fastify's inject.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { buildApi, MAX_MEMBERS_PAGE } from '@profile-stream/api';
import { REPO_ROOT } from '@profile-stream/consumer-kit';
import { eventFragment, type FoldInput, type JsonValue, normaliseIdentifiers, ProfileStore, profileView } from '@profile-stream/profile';
import { decide, MembershipStore } from '@profile-stream/segmenter';
import { decisiveLeaves, explain, loadDefinitions, type SegmentDefinition } from '@profile-stream/segments';
import { consent, purchase } from '@profile-stream/segments/testing';
import { apiDeps, GB } from './support/api.ts';
import { testEnv, type TestEnv } from './support/index.ts';

const DAY = 86_400_000;
const NOW = Date.now();

let env: TestEnv;
let redis: Redis;
let store: ProfileStore;
let memberships: MembershipStore;
let defs: SegmentDefinition[];
let app: FastifyInstance;
const keys = { read: '', erase: '' };

/** An event of the segments' test builders, as customer `who` (its own e-mail and user id). */
function as(who: string, f: FoldInput): FoldInput {
  const event = { ...f.event, user_id: `user-${who}`, email: `${who}@example.com` } as FoldInput['event'];
  return { ...f, event, ids: normaliseIdentifiers(event, GB) } as FoldInput;
}

/** Folds the events into a profile as a stitcher does, then decides and writes its memberships as the segmenter does. */
async function customer(events: FoldInput[]): Promise<{ pid: string; view: JsonValue }> {
  const chunk = await store.stitch(
    events.map((f) => {
      const { dropped: _dropped, ...ids } = f.ids;
      return { ids, eventId: f.event.event_id, occurredAt: f.event.occurred_at, fragment: () => eventFragment(f.topic, f.event as never, f.ids) };
    }),
  );
  await store.resolver.settle(chunk.merges);
  const pid = chunk.resolutions.at(-1)!.profileId;
  const p = (await store.read(pid))!;
  const view = profileView(p.doc as never, { profile_id: p.profileId, merged_ids: p.mergedIds });
  const at = Math.max(...events.map((e) => e.event.occurred_at));
  const r = await memberships.apply(pid, 1, events.at(-1)!.event.event_id, decide(defs, view, NOW, { kind: 'event', at }));
  assert.equal(r.kind, 'ok');
  return { pid, view };
}

const get = (url: string, key?: string) => app.inject({ method: 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {} });

beforeAll(async () => {
  env = await testEnv('api-seg');
  const prefix = `${env.prefix}ps:`;
  redis = new Redis(env.conn.redis.url);
  store = new ProfileStore({ redis, prefix, windowMs: 3650 * DAY });
  // Four shards: with 250 members a shard's reply (the whole small set) is bigger than a page of 50.
  memberships = new MembershipStore(redis, { prefix, shards: 4 });
  defs = await loadDefinitions(resolve(REPO_ROOT, 'segments'));
  const deps = apiDeps({ redis, prefix, store, log: env.log }, { memberships, defs, rateLimitPerMinute: 10_000, now: () => NOW });
  keys.read = (await deps.keys.create({ scopes: ['read'] })).key;
  keys.erase = (await deps.keys.create({ scopes: ['erase'] })).key;
  app = await buildApi(deps);
});
afterAll(async () => {
  await app?.close();
  redis?.disconnect();
});

type Leaf = { field: string; operator: string; expected: unknown; actual: unknown; holds: boolean };
type Entry = {
  id: string;
  name: string;
  member: boolean;
  since: string | null;
  membership_version: number;
  definition_version: number | null;
  reason: null;
  why: { holds: boolean; conditions: Leaf[]; tree: unknown };
};
type Answer = { requested: string; profile_id: string; evaluated_at: string; segments: Entry[] };

describe('GET /v1/profiles/:ref/segments', () => {
  test('the segments a customer is in, since when (the stored membership) and why (the conditions and the values that hold)', async () => {
    const t = NOW - 40 * DAY;
    const { pid, view } = await customer([
      as('bigspender', consent(t, 'email', true)),
      as('bigspender', purchase(t + DAY, 'o1', { total: 30_000 })),
      as('bigspender', purchase(t + 2 * DAY, 'o2', { total: 24_000 })),
    ]);
    const stored = await memberships.read(pid);
    const inSegments = defs.filter((d) => stored.segments.get(d.id)?.member);
    assert.ok(
      inSegments.some((d) => d.id === 'high-value'),
      'the customer is high-value',
    );

    for (const ref of [pid, 'email:BigSpender@example.com', 'user:user-bigspender']) {
      const r = await get(`/v1/profiles/${encodeURIComponent(ref)}/segments`, keys.read);
      assert.equal(r.statusCode, 200, r.body);
      const body = r.json() as Answer;
      assert.equal(body.requested, ref);
      assert.equal(body.profile_id, pid);
      assert.equal(body.evaluated_at, new Date(NOW).toISOString());
      assert.deepEqual(
        body.segments.map((s) => s.id),
        inSegments.map((d) => d.id),
      );
      for (const s of body.segments) {
        const m = stored.segments.get(s.id)!;
        assert.equal(s.member, true);
        assert.equal(s.since, new Date(m.occurredAt).toISOString(), s.id);
        assert.equal(s.membership_version, m.version);
        assert.equal(s.definition_version, m.definitionVersion);
        assert.equal(s.reason, null, 'the store keeps no reason per profile');
        const tree = explain(defs.find((d) => d.id === s.id)!, view, NOW);
        assert.deepEqual(s.why, JSON.parse(JSON.stringify({ holds: true, conditions: decisiveLeaves(tree), tree })), s.id);
      }
    }
    const hv = ((await get(`/v1/profiles/${pid}/segments`, keys.read)).json() as Answer).segments.find((s) => s.id === 'high-value')!;
    assert.deepEqual(hv.why.conditions, [
      {
        kind: 'leaf',
        holds: true,
        field: 'net_minor',
        operator: 'sum',
        expected: { currency: 'GBP', within: '365d', ending: 'now', gte: 50_000 },
        actual: 54_000,
      },
    ]);
    assert.equal(hv.since, new Date(t + 2 * DAY).toISOString(), 'entered with the purchase that crossed the threshold');
  });

  test('?all=1 lists every segment, those it is not in with why not; a customer in none has an empty list', async () => {
    const { pid } = await customer([as('browser', consent(NOW - 3 * DAY, 'email', false))]);
    const stored = await memberships.read(pid);
    const r = await get(`/v1/profiles/${pid}/segments?all=1`, keys.read);
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json() as Answer;
    assert.deepEqual(
      body.segments.map((s) => [s.id, s.member]),
      defs.map((d) => [d.id, stored.segments.get(d.id)?.member === true]),
    );
    const reachable = body.segments.find((s) => s.id === 'email-reachable')!;
    assert.equal(reachable.member, false);
    assert.equal(reachable.why.holds, false);
    assert.deepEqual(
      reachable.why.conditions.map((c) => [c.field, c.actual, c.holds]),
      [['consent.email.granted', false, false]],
    );
    const notIn = body.segments.filter((s) => !s.member);
    assert.ok(notIn.length > 0 && notIn.every((s) => s.membership_version === 0 && s.since === null && !s.why.holds));
    const only = (await get(`/v1/profiles/${pid}/segments`, keys.read)).json() as Answer;
    assert.deepEqual(
      only.segments.map((s) => s.id),
      body.segments.filter((s) => s.member).map((s) => s.id),
    );
    assert.equal((await get(`/v1/profiles/${pid}/segments?all=2`, keys.read)).statusCode, 400);
  });

  test('unknown ref 404, malformed 400, no key 401, no read scope 403', async () => {
    const missing = await get(`/v1/profiles/${encodeURIComponent('email:nobody@nowhere.example')}/segments`, keys.read);
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'not_found');
    const bad = await get('/v1/profiles/fax:123/segments', keys.read);
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'invalid_ref');
    assert.equal((await get('/v1/profiles/user:x/segments')).statusCode, 401);
    const forbidden = await get('/v1/profiles/user:x/segments', keys.erase);
    assert.equal(forbidden.statusCode, 403);
    assert.equal(forbidden.json().code, 'forbidden');
  });
});

describe('GET /v1/segments/:id/members', () => {
  const pids = Array.from({ length: 250 }, (_, i) => `p${String(9_000_000 + i).padStart(19, '0')}`);
  type Page = { segment_id: string; members: { profile_id: string }[]; next_cursor: string | null };

  beforeAll(async () => {
    const loyal = defs.find((d) => d.id === 'loyal')!;
    const enter = {
      segment: loyal.id,
      definitionVersion: loyal.version,
      member: true,
      reason: 'rule_matched',
      occurredAt: NOW,
      nextChangeAt: null,
      traits: {},
    } as const;
    await Promise.all(pids.map((pid) => memberships.apply(pid, 1, null, [enter])));
    // One that left again: not a member.
    await memberships.apply(pids[0]!, 2, null, [{ ...enter, member: false, reason: 'rule_unmatched' }]);
  });

  test('pages of at most 50 through 249 members give every member; next_cursor is null at the end', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await get(`/v1/segments/loyal/members?limit=50${cursor ? `&cursor=${cursor}` : ''}`, keys.read);
      assert.equal(r.statusCode, 200, r.body);
      const page = r.json() as Page;
      assert.equal(page.segment_id, 'loyal');
      assert.ok(page.members.length <= 50, `a page of ${page.members.length}`);
      seen.push(...page.members.map((m) => m.profile_id));
      cursor = page.next_cursor;
      assert.ok(++pages <= 20, 'paging ends');
    } while (cursor !== null);
    assert.ok(pages >= 5);
    assert.deepEqual([...new Set(seen)].sort(), pids.slice(1).sort());
    const all = (await get(`/v1/segments/loyal/members?limit=${MAX_MEMBERS_PAGE}`, keys.read)).json() as Page;
    assert.deepEqual(all.members.map((m) => m.profile_id).sort(), pids.slice(1).sort());
    assert.equal(all.next_cursor, null);
    const dflt = (await get('/v1/segments/loyal/members', keys.read)).json() as Page;
    assert.equal(dflt.members.length, 100, 'the default page is 100');
  });

  test('a segment without members is one empty page; unknown segment 404; bad limit or cursor 400; scopes', async () => {
    assert.deepEqual((await get('/v1/segments/rfm-lost/members', keys.read)).json(), { segment_id: 'rfm-lost', members: [], next_cursor: null });
    const unknown = await get('/v1/segments/no-such-segment/members', keys.read);
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().code, 'not_found');
    for (const q of ['limit=0', `limit=${MAX_MEMBERS_PAGE + 1}`, 'limit=ten', 'cursor=bm9wZQ', `cursor=${'x'.repeat(600)}`]) {
      const r = await get(`/v1/segments/loyal/members?${q}`, keys.read);
      assert.equal(r.statusCode, 400, q);
      assert.equal(r.json().code, 'invalid_request', q);
    }
    assert.match((await get('/v1/segments/loyal/members?cursor=bm9wZQ', keys.read)).json().detail, /cursor/);
    assert.equal((await get('/v1/segments/loyal/members')).statusCode, 401);
    assert.equal((await get('/v1/segments/loyal/members', keys.erase)).statusCode, 403);
  });

  test('/docs documents both routes and the Explanation schema', async () => {
    const doc = (await get('/docs', keys.read)).json() as { paths: Record<string, { get: { responses: object } }>; components: { schemas: object } };
    for (const p of ['/v1/profiles/{ref}/segments', '/v1/segments/{id}/members']) assert.ok('404' in doc.paths[p]!.get.responses, p);
    assert.ok('Explanation' in doc.components.schemas);
  });
});
