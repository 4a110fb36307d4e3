/**
 * `GET /v1/profiles/:ref/timeline` through fastify's inject, on the real Redis and a real embedded chDB with the shipped
 * migrations: a customer with 1,000+ events who is the merge of two identities (e-mail + anonymous id, and a user id),
 * folded into a profile as a stitcher folds them and stored as the warehouse stores them (its own row functions, e-mail
 * hashed); another customer's events beside them. Paging has no overlap, no gap and a stable cursor; the type filter;
 * bad input; the warehouse missing or unreachable is a 503 naming the setting.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { type ApiDeps, buildApi, openTimelineSource, PROBLEM_TYPE } from '@profile-stream/api';
import { openClickHouse, type ClickHouseClient } from '@profile-stream/clickhouse';
import { REPO_ROOT } from '@profile-stream/consumer-kit';
import { eventFragment, type FoldInput, normaliseIdentifiers, ProfileStore } from '@profile-stream/profile';
import { MembershipStore } from '@profile-stream/segmenter';
import { loadDefinitions } from '@profile-stream/segments';
import { click, purchase, ticket } from '@profile-stream/segments/testing';
import { clickHouseHttp, clickRows, insertRows, migrate, piiStorer, purchaseRows, type Row, type RowOptions, ticketRows } from '@profile-stream/warehouse';
import { freePort } from './support/warehouse.ts';
import { apiDeps, GB } from './support/api.ts';
import { testEnv, type TestEnv } from './support/index.ts';

const DAY = 86_400_000;
const PII_KEY = 'timeline-test-key-0123456789';
const DB = 'profile_stream';
const NOW = Date.now();

type Who = { user_id?: string; email?: string; anonymous_id?: string };
type Item = { event_id: string; occurred_at: string; type: string; source: string; details: Record<string, unknown> };
type Page = { requested: string; profile_id: string; merged_into?: string; events: Item[]; next_cursor: string | null };

let env: TestEnv;
let redis: Redis;
let store: ProfileStore;
let app: FastifyInstance;
let dataDir: string;
let ch: ClickHouseClient;
let readKey: string;
let deps: ApiDeps;
/** Every event of Ann (both identities) and of Bob, as folded and stored. */
const ann: FoldInput[] = [];
const bob: FoldInput[] = [];
let annEmailSide: FoldInput[] = [];
let annUserSide: FoldInput[] = [];

/** An event of the segments' test builders as customer `who` (only the identifiers given), with a fresh id. */
let seq = 0;
function as(who: Who, f: FoldInput): FoldInput {
  // Ids of mixed case and length: the order of equal times is by event id, compared as bytes.
  const event_id = `${seq % 2 ? 'E' : 'e'}v-${(seq++ * 7919).toString(36)}`;
  const event = { ...f.event, event_id, user_id: who.user_id ?? null, email: who.email ?? null, anonymous_id: who.anonymous_id ?? null, phone: null };
  return { ...f, event, ids: normaliseIdentifiers(event, GB) } as FoldInput;
}

async function stitch(events: FoldInput[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const chunk = await store.stitch(
      events.slice(i, i + 500).map((f) => {
        const { dropped: _dropped, ...ids } = f.ids;
        return { ids, eventId: f.event.event_id, occurredAt: f.event.occurred_at, fragment: () => eventFragment(f.topic, f.event as never, f.ids) };
      }),
    );
    await store.resolver.settle(chunk.merges);
  }
}

const rowOptions = (pii: 'hash' | 'plain'): RowOptions => ({
  storePii: piiStorer(pii, PII_KEY),
  defaultRegion: 'GB',
  blocklist: new Set(),
  now: NOW,
  maxFutureMs: 60_000,
});

/** The events as the warehouse stores them (its row functions; e-mail and phone hashed unless `plain`), inserted per table. */
async function warehouseStore(events: FoldInput[], db = DB, pii: 'hash' | 'plain' = 'hash'): Promise<void> {
  const tables = new Map<string, Row[]>();
  for (const f of events) {
    const rows =
      f.topic === 'clickstream'
        ? clickRows(f.event as never, rowOptions(pii))
        : f.topic === 'purchases'
          ? purchaseRows(f.event as never, rowOptions(pii))
          : ticketRows(f.event as never, rowOptions(pii));
    for (const [t, r] of Object.entries(rows)) tables.set(t, [...(tables.get(t) ?? []), ...(r as Row[])]);
  }
  for (const [t, rows] of tables) if (rows.length) await insertRows(ch, `${db}.${t}`, rows);
}

/** Newest first, equal times by event id as bytes: the order the route promises. */
const expectedOrder = (events: FoldInput[]) =>
  [...events]
    .sort((a, b) => b.event.occurred_at - a.event.occurred_at || Buffer.compare(Buffer.from(b.event.event_id), Buffer.from(a.event.event_id)))
    .map((f) => f.event.event_id);

const get = (url: string, key: string | undefined = readKey) => app.inject({ method: 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {} });

async function page(ref: string, query = ''): Promise<Page> {
  const r = await get(`/v1/profiles/${encodeURIComponent(ref)}/timeline${query}`);
  assert.equal(r.statusCode, 200, r.body);
  return r.json() as Page;
}

/** Every page of a ref's timeline: the ids in order and the cursors. */
async function walk(ref: string, limit: number, extra = ''): Promise<{ ids: string[]; cursors: string[]; sizes: number[] }> {
  const ids: string[] = [];
  const cursors: string[] = [];
  const sizes: number[] = [];
  let cursor: string | null = null;
  do {
    const p: Page = await page(ref, `?limit=${limit}${extra}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    ids.push(...p.events.map((e) => e.event_id));
    sizes.push(p.events.length);
    cursor = p.next_cursor;
    if (cursor) cursors.push(cursor);
  } while (cursor);
  return { ids, cursors, sizes };
}

beforeAll(async () => {
  env = await testEnv('api-tl');
  const prefix = `${env.prefix}ps:`;
  redis = new Redis(env.conn.redis.url);
  store = new ProfileStore({ redis, prefix, windowMs: 3650 * DAY });
  dataDir = mkdtempSync(join(tmpdir(), 'ps-timeline-'));
  ch = openClickHouse({ dataDir }).client;
  await migrate(ch, { database: DB, dir: resolve(REPO_ROOT, 'infra/clickhouse'), log: env.log });

  // Ann, side 1: e-mail and an anonymous id (600 clicks); side 2: a user id (300 purchases, 100 ticket events). Times
  // come in groups of five equal instants so that the event id decides their order.
  const start = NOW - 60 * DAY;
  const at = (i: number) => start + Math.floor(i / 5) * 37_000;
  const email = { email: 'ann@example.com', anonymous_id: 'anon-ann' };
  const user = { user_id: 'u-ann' };
  annEmailSide = Array.from({ length: 600 }, (_, i) => as(email, click(at(i), i % 3 ? 'page_view' : 'product_view')));
  annUserSide = [
    ...Array.from({ length: 300 }, (_, i) => as(user, purchase(at(i * 2 + 1), `o-${i}`, { total: 1000 + i }))),
    ...Array.from({ length: 100 }, (_, i) => as(user, ticket(at(i * 6 + 3), `t-${i % 20}`, i < 80 ? 'updated' : 'opened', null, 'normal'))),
  ];
  // The event that tells the stitcher both are the same customer (a login with e-mail and user id).
  const link = as({ ...email, ...user }, click(at(605), 'login'));
  ann.push(...annEmailSide, ...annUserSide, link);
  bob.push(...Array.from({ length: 40 }, (_, i) => as({ email: 'bob@example.com', user_id: 'u-bob' }, click(at(i), 'search'))));
  await stitch(annEmailSide);
  await stitch(annUserSide);
  await stitch([link, ...bob]);
  await warehouseStore([...ann, ...bob]);
  // Not merged away yet by the ReplacingMergeTree: rows stored twice must be listed once.
  await warehouseStore(annEmailSide.slice(0, 50));

  deps = apiDeps(
    { redis, prefix, store, log: env.log },
    {
      memberships: new MembershipStore(redis, { prefix, shards: 4 }),
      defs: await loadDefinitions(resolve(REPO_ROOT, 'segments')),
      rateLimitPerMinute: 100_000,
    },
  );
  readKey = (await deps.keys.create({ scopes: ['read'] })).key;
  app = await buildApi({ ...deps, warehouse: { client: ch, database: DB, pii: 'hash', piiKey: PII_KEY, location: dataDir } });
});
afterAll(async () => {
  await app?.close();
  await ch?.close();
  redis?.disconnect();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('GET /v1/profiles/:ref/timeline', () => {
  test('a merged customer: every event of both identities, newest first, over pages with no overlap and no gap', async () => {
    const byEmail = await page('email:Ann@Example.com', '?limit=5');
    const byUser = await page('user:u-ann', '?limit=5');
    assert.equal(byEmail.profile_id, byUser.profile_id, 'the two identities are one profile');
    const profile = (await get(`/v1/profiles/${byEmail.profile_id}`)).json() as { profile: { merged_ids: string[] } };
    assert.equal(profile.profile.merged_ids.length, 1, 'the profile was merged');

    const first = await page('email:ann@example.com', '?limit=50');
    assert.deepEqual(
      first.events.map((e) => e.event_id),
      expectedOrder(ann).slice(0, 50),
    );

    const all = await walk('email:ann@example.com', 37);
    assert.deepEqual(all.ids, expectedOrder(ann), 'all of Ann’s events, in order, each once; none of Bob’s');
    assert.equal(new Set(all.ids).size, ann.length);
    assert.deepEqual(all.sizes, [...Array(Math.floor(ann.length / 37)).fill(37), ann.length % 37].filter(Boolean));
    // Both identities' events are there.
    for (const side of [annEmailSide, annUserSide]) assert.ok(side.every((f) => all.ids.includes(f.event.event_id)));

    // The absorbed profile's id leads to the same timeline, and says so.
    const absorbed = profile.profile.merged_ids[0]!;
    const viaAbsorbed = await page(absorbed, '?limit=100');
    assert.equal(viaAbsorbed.merged_into, byEmail.profile_id);
    assert.deepEqual(
      viaAbsorbed.events.map((e) => e.event_id),
      expectedOrder(ann).slice(0, 100),
    );
  });

  test('a cursor is stable: the same page again, also after newer events arrived; the first page then starts with them', async () => {
    const one = await page('user:u-ann', '?limit=20');
    const cursor = one.next_cursor!;
    const two = await page('user:u-ann', `?limit=20&cursor=${encodeURIComponent(cursor)}`);
    const newer = as({ user_id: 'u-ann' }, purchase(NOW - 1000, 'o-late'));
    await warehouseStore([newer]);
    const again = await page('user:u-ann', `?limit=20&cursor=${encodeURIComponent(cursor)}`);
    assert.deepEqual(again, two);
    const fresh = await page('user:u-ann', '?limit=20');
    assert.equal(fresh.events[0]!.event_id, newer.event.event_id);
    assert.deepEqual(
      fresh.events.slice(1).map((e) => e.event_id),
      one.events.slice(0, 19).map((e) => e.event_id),
    );
    ann.push(newer);
  });

  test('type filter: purchases and tickets only, with their details', async () => {
    const { ids } = await walk('email:ann@example.com', 100, '&type=purchase&type=support_ticket');
    const wanted = ann.filter((f) => f.topic !== 'clickstream');
    assert.deepEqual(ids, expectedOrder(wanted));
    const clicks = await walk('email:ann@example.com', 100, '&type=login&type=product_view');
    assert.deepEqual(
      clicks.ids,
      expectedOrder(ann.filter((f) => f.topic === 'clickstream' && ['login', 'product_view'].includes((f.event as { type: string }).type))),
    );

    const p = await page('user:u-ann', '?type=purchase&limit=1');
    const o = ann.find((f) => f.event.event_id === p.events[0]!.event_id)!.event as { order_id: string; total_minor: number; occurred_at: number };
    assert.deepEqual(p.events[0], {
      event_id: p.events[0]!.event_id,
      occurred_at: new Date(o.occurred_at).toISOString(),
      type: 'purchase',
      source: 'purchases',
      details: { order_id: o.order_id, status: 'completed', channel: 'web', currency: 'GBP', total_minor: o.total_minor, items_count: 0 },
    });
    const t = await page('user:u-ann', '?type=support_ticket&limit=1');
    assert.equal(t.events[0]!.type, 'support_ticket');
    assert.equal(t.events[0]!.details.priority, 'normal');
  });

  test('figures (printed, not asserted): the timeline’s first page and the support page’s four data calls in parallel', async () => {
    const ref = encodeURIComponent('email:ann@example.com');
    const calls = [``, `/segments?all=1`, `/timeline?limit=50`, `/timeline?type=support_ticket&limit=100`].map((p) => `/v1/profiles/${ref}${p}`);
    const time = async (f: () => Promise<unknown>) => {
      const ms: number[] = [];
      for (let i = 0; i < 11; i++) {
        const t0 = performance.now();
        await f();
        ms.push(performance.now() - t0);
      }
      ms.sort((a, b) => a - b);
      return `median ${ms[5]!.toFixed(1)} ms, max ${ms[10]!.toFixed(1)} ms`;
    };
    const page1 = await time(() => get(calls[2]!));
    const all = await time(() => Promise.all(calls.map((c) => get(c).then((r) => assert.equal(r.statusCode, 200, r.body)))));
    console.log(`${ann.length} events: timeline page 1 ${page1}; profile + segments + timeline + tickets in parallel ${all} (inject, embedded chDB)`);
  });

  test('bad input: 400 naming the field, 404 for no profile, 401 without a key', async () => {
    const problem = async (url: string, status: number, detail: RegExp, key?: string) => {
      const r = await get(url, key);
      assert.equal(r.statusCode, status, r.body);
      assert.ok(String(r.headers['content-type']).startsWith(PROBLEM_TYPE), String(r.headers['content-type']));
      assert.match((r.json() as { detail: string }).detail, detail);
    };
    await problem('/v1/profiles/user:u-ann/timeline?limit=101', 400, /limit/);
    await problem('/v1/profiles/user:u-ann/timeline?limit=0', 400, /limit/);
    await problem('/v1/profiles/user:u-ann/timeline?type=teleport', 400, /type/);
    await problem('/v1/profiles/user:u-ann/timeline?cursor=bm90IGEgY3Vyc29y', 400, /cursor/);
    await problem(`/v1/profiles/user:u-ann/timeline?cursor=${Buffer.from('{"t":-1,"id":"x"}').toString('base64url')}`, 400, /cursor/);
    await problem('/v1/profiles/user:nobody-here/timeline', 404, /no profile/);
    await problem('/v1/profiles/email:not-an-email/timeline', 400, /email/);
    await problem('/v1/profiles/user:u-ann/timeline', 401, /API key/, '');
  });

  test('through the warehouse’s read-only SQL endpoint (what it serves on WAREHOUSE_OPS_PORT), as the service reads it', async () => {
    const serve = clickHouseHttp(ch);
    const server = createServer((req, res) => {
      void serve(req, res).then((handled) => handled || res.writeHead(404).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const opsPort = (server.address() as { port: number }).port;
    const warehouse = openTimelineSource({ url: undefined, database: DB, opsPort, pii: 'hash', piiKey: PII_KEY });
    const viaHttp = await buildApi({ ...deps, warehouse });
    try {
      const r = await viaHttp.inject({
        method: 'GET',
        url: '/v1/profiles/email:ann@example.com/timeline?limit=100',
        headers: { authorization: `Bearer ${readKey}` },
      });
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(
        (r.json() as Page).events.map((e) => e.event_id),
        expectedOrder(ann).slice(0, 100),
      );
    } finally {
      await viaHttp.close();
      await warehouse.client.close();
      server.close();
    }
  });

  test('a warehouse that stores e-mail and phone as they are (WAREHOUSE_PII=plain) is matched as it stores them', async () => {
    // A customer known by e-mail and phone only: nothing else could match her rows.
    const cleo = Array.from({ length: 20 }, (_, i) => as({ email: 'cleo@example.com' }, click(NOW - (i + 1) * 60_000, 'search')));
    const phoneOnly = as({ email: 'cleo@example.com' }, click(NOW - 30 * 60_000, 'login'));
    const withPhone = { ...phoneOnly, event: { ...phoneOnly.event, phone: '07700 900456' } } as FoldInput;
    const events = [...cleo, { ...withPhone, ids: normaliseIdentifiers(withPhone.event, GB) } as FoldInput];
    await stitch(events);
    await migrate(ch, { database: 'tl_plain', dir: resolve(REPO_ROOT, 'infra/clickhouse'), log: env.log });
    await warehouseStore(events, 'tl_plain', 'plain');
    const stored = await (
      await ch.query({ query: "SELECT count() AS n FROM tl_plain.clickstream_events WHERE email = 'cleo@example.com'", format: 'JSONEachRow' })
    ).json<{ n: string }>();
    assert.equal(Number(stored[0]!.n), events.length, 'stored as they are');
    const source = (pii: 'hash' | 'plain') => ({ client: ch, database: 'tl_plain', pii, piiKey: PII_KEY, location: dataDir });
    const plain = await buildApi({ ...deps, warehouse: source('plain') });
    const hashed = await buildApi({ ...deps, warehouse: source('hash') });
    try {
      const headers = { authorization: `Bearer ${readKey}` };
      for (const ref of ['email:cleo@example.com', 'phone:07700900456']) {
        const url = `/v1/profiles/${encodeURIComponent(ref)}/timeline?limit=100`;
        const r = await plain.inject({ method: 'GET', url, headers });
        assert.equal(r.statusCode, 200, r.body);
        assert.deepEqual(
          (r.json() as Page).events.map((e) => e.event_id),
          expectedOrder(events),
        );
        // Read as if they were hashed, the same rows are not found: the mode decides how identifiers are matched.
        assert.deepEqual((await hashed.inject({ method: 'GET', url, headers }).then((x) => x.json() as Page)).events, []);
      }
    } finally {
      await plain.close();
      await hashed.close();
    }
  });

  test('without a warehouse, or with one that does not answer: 503 problem+json naming the setting', async () => {
    const none = await buildApi(deps);
    const closed = await buildApi({
      ...deps,
      warehouse: openTimelineSource({ url: undefined, database: DB, opsPort: await freePort(), pii: 'hash', piiKey: PII_KEY }),
    });
    try {
      for (const api of [none, closed]) {
        const r = await api.inject({ method: 'GET', url: '/v1/profiles/user:u-ann/timeline', headers: { authorization: `Bearer ${readKey}` } });
        assert.equal(r.statusCode, 503, r.body);
        assert.ok(String(r.headers['content-type']).startsWith(PROBLEM_TYPE), String(r.headers['content-type']));
        const body = r.json() as { code: string; detail: string };
        assert.equal(body.code, 'dependency_unavailable');
        assert.match(body.detail, /CLICKHOUSE_URL/);
        assert.match(body.detail, /WAREHOUSE_OPS_PORT/);
      }
    } finally {
      await none.close();
      await closed.close();
    }
  });
});
