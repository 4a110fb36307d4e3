/**
 * The profile API on the real Redis: keys made with the CLI (`apikey create|list|revoke`), generated customers stitched
 * into profiles as the stitchers do, then every ref kind, a merged profile's id, batches, 401/403/429, `/docs` and
 * `/health` through fastify's inject, and the service itself over real HTTP (explaining rfm-* segments with the current
 * RFM breakpoint version, as the segmenter scores them).
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { type ApiDeps, ApiKeyStore, buildApi, loadProfileApiConfig, MAX_BATCH_REFS, PROBLEM_TYPE, startProfileApi } from '@profile-stream/api';
import { ProfileStore, profileView } from '@profile-stream/profile';
import { stitchItem } from '@profile-stream/profile/testing';
import {
  DEFAULT_RFM_MODEL,
  factsOf,
  loadDefinitions,
  modelOf,
  populationModel,
  type PopulationQuintiles,
  rfmScores,
  RfmVersions,
  versionDoc,
} from '@profile-stream/segments';
import { REPO_ROOT } from '@profile-stream/consumer-kit';
import { apiDeps, cliKey, richView, stitchGenerated, type View } from './support/api.ts';
import { runCli, testEnv, type TestEnv } from './support/index.ts';

const DAY = 86_400_000;
const SEGMENTS = resolve(REPO_ROOT, 'segments');

let env: TestEnv;
let prefix: string;
let cliEnv: NodeJS.ProcessEnv;
let redis: Redis;
let store: ProfileStore;
let app: FastifyInstance;
const keys: Record<'read' | 'admin' | 'erase', string> = { read: '', admin: '', erase: '' };

/** The API on this test's Redis prefix, with `over` changed. */
const apiWith = (over: Partial<ApiDeps>) => buildApi(apiDeps({ redis, prefix, store, log: env.log }, over));
const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const get = (url: string, key?: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url, headers: { ...(key ? auth(key) : {}), ...headers } });

beforeAll(async () => {
  env = await testEnv('api');
  prefix = `${env.prefix}ps:`;
  cliEnv = { ...env.childEnv, REDIS_PREFIX: prefix };
  redis = new Redis(env.conn.redis.url);
  store = new ProfileStore({ redis, prefix, windowMs: 90 * DAY });
  keys.read = cliKey(cliEnv, 'read').key;
  keys.admin = cliKey(cliEnv, 'admin').key;
  keys.erase = cliKey(cliEnv, 'erase').key;
  await stitchGenerated(store, 1313);
  app = await apiWith({ defs: await loadDefinitions(SEGMENTS) });
});
afterAll(async () => {
  await app?.close();
  redis?.disconnect();
});

describe('GET /v1/profiles/:ref', () => {
  test('finds one profile by its id and by every ref kind, in any spelling the stitchers accept; the body is the CLI’s JSON', async () => {
    const v = await richView(store);
    const phone = v.identity.phones.find((x) => x.startsWith('+44'))!;
    const refs = [
      v.profile_id,
      `email:${v.identity.emails[0]!}`,
      `email:  ${v.identity.emails[0]!.toUpperCase()} `,
      `phone:${phone}`,
      `phone:0${phone.slice(3, 7)} ${phone.slice(7)}`,
      `user:${v.identity.user_ids[0]!}`,
      `anon:${v.identity.anonymous_ids[0]!}`,
    ];
    const cli = runCli(['profile', v.profile_id, '--json'], { env: cliEnv });
    assert.equal(cli.status, 0, cli.stderr);
    for (const ref of refs) {
      const r = await get(`/v1/profiles/${encodeURIComponent(ref)}`, keys.read);
      assert.equal(r.statusCode, 200, `${ref}: ${r.body}`);
      const body = r.json() as { requested: string; found: boolean; merged_into?: string; profile: View };
      assert.equal(body.requested, ref);
      assert.equal(body.found, true);
      assert.equal(body.merged_into, undefined);
      // Byte for byte the CLI's `profile --json` (same resolution, same view, same field order).
      assert.equal(JSON.stringify(body.profile, null, 2), cli.stdout.trimEnd(), ref);
    }
  });

  test('a merged profile’s id follows the alias and says so', async () => {
    const t = Date.now() - DAY;
    const older = await store.stitch([stitchItem({ id: 'm-1', ids: { email: 'merge-me@example.com' }, amount: 100, at: t })]);
    const younger = await store.stitch([stitchItem({ id: 'm-2', ids: { user_id: 'merge-user' }, amount: 250, at: t + 1 })]);
    const link = await store.stitch([stitchItem({ id: 'm-3', ids: { user_id: 'merge-user', email: 'merge-me@example.com' }, amount: 5, at: t + 2 })]);
    await store.resolver.settle(link.merges);
    const [survivor, merged] = [older.resolutions[0]!.profileId, younger.resolutions[0]!.profileId].sort();
    assert.notEqual(survivor, merged);
    const r = await get(`/v1/profiles/${merged}`, keys.read);
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json() as { requested: string; merged_into: string; profile: View & { transactions: { revenue_minor: Record<string, number> } } };
    assert.equal(body.requested, merged);
    assert.equal(body.merged_into, survivor);
    assert.equal(body.profile.profile_id, survivor);
    assert.deepEqual(body.profile.merged_ids, [merged]);
    const direct = (await get(`/v1/profiles/${survivor}`, keys.read)).json() as { merged_into?: string };
    assert.equal(direct.merged_into, undefined, 'the live profile’s own id is not a redirect');
    const byUser = (await get('/v1/profiles/user:merge-user', keys.read)).json() as { profile: View };
    assert.equal(byUser.profile.profile_id, survivor);
  });

  test('an unknown ref is 404, a malformed one 400, both problem+json with the code', async () => {
    const missing = await get(`/v1/profiles/${encodeURIComponent('email:nobody@nowhere.example')}`, keys.read);
    assert.equal(missing.statusCode, 404);
    assert.match(String(missing.headers['content-type']), new RegExp(PROBLEM_TYPE.replace('+', '\\+')));
    assert.equal(missing.json().code, 'not_found');
    const tooLong = await get(`/v1/profiles/p${'0'.repeat(20)}`, keys.read);
    assert.equal(tooLong.statusCode, 400, 'one digit too many is not a profile id');
    assert.equal((await get(`/v1/profiles/p${'0'.repeat(19)}`, keys.read)).json().code, 'not_found');
    const long = await get(`/v1/profiles/${encodeURIComponent(`email:${'é'.repeat(600)}@x.com`)}`, keys.read);
    assert.equal(long.statusCode, 400, 'an over-long ref is refused by the schema, not lost in the router');
    assert.equal(long.json().code, 'invalid_request');
    for (const ref of ['email:not-an-email', 'phone:call me', 'user:n/a', 'fax:123', 'nonsense']) {
      const r = await get(`/v1/profiles/${encodeURIComponent(ref)}`, keys.read);
      assert.equal(r.statusCode, 400, ref);
      assert.equal(r.json().code, 'invalid_ref', ref);
      assert.equal(r.json().status, 400);
    }
  });
});

describe('GET /v1/profiles:batch', () => {
  test('answers each ref in request order: found, not found, malformed', async () => {
    const v = await richView(store);
    const refs = [`user:${v.identity.user_ids[0]!}`, 'email:nobody@nowhere.example', 'phone:garbage', v.profile_id];
    const r = await get(`/v1/profiles:batch?${refs.map((x) => `ref=${encodeURIComponent(x)}`).join('&')}`, keys.read);
    assert.equal(r.statusCode, 200, r.body);
    const { results } = r.json() as { results: { requested: string; found: boolean; profile?: View; error?: { code: string } }[] };
    assert.deepEqual(
      results.map((x) => [x.requested, x.found, x.profile?.profile_id ?? x.error?.code]),
      [
        [refs[0], true, v.profile_id],
        [refs[1], false, 'not_found'],
        [refs[2], false, 'invalid_ref'],
        [refs[3], true, v.profile_id],
      ],
    );
  });

  test(`one ref is a batch of one; none, or more than ${MAX_BATCH_REFS}, is invalid_request naming the field`, async () => {
    const v = await richView(store);
    const one = await get(`/v1/profiles:batch?ref=${v.profile_id}`, keys.read);
    assert.equal(one.statusCode, 200, one.body);
    assert.equal((one.json() as { results: unknown[] }).results.length, 1);
    const none = await get('/v1/profiles:batch', keys.read);
    assert.equal(none.statusCode, 400);
    assert.equal(none.json().code, 'invalid_request');
    const many = await get(`/v1/profiles:batch?${Array.from({ length: MAX_BATCH_REFS + 1 }, (_, i) => `ref=user:u${i}`).join('&')}`, keys.read);
    assert.equal(many.statusCode, 400);
    assert.equal(many.json().code, 'invalid_request');
    assert.match(many.json().detail, /ref/);
  });
});

describe('keys and scopes', () => {
  test('no key or a wrong key is 401 with WWW-Authenticate: Bearer; a key without the scope is 403', async () => {
    for (const url of ['/v1/profiles/user:x', '/v1/segments', '/metrics', '/docs', '/nowhere']) {
      const none = await get(url);
      assert.equal(none.statusCode, 401, url);
      assert.match(String(none.headers['www-authenticate']), /^Bearer /);
      assert.equal(none.json().code, 'unauthorized');
    }
    const forged = `psk_${'0'.repeat(16)}_${'A'.repeat(43)}`;
    for (const h of [`Bearer ${forged}`, 'Bearer nonsense', `Basic ${keys.read}`, `Bearer ${keys.read}x`]) {
      const r = await app.inject({ method: 'GET', url: '/v1/segments', headers: { authorization: h } });
      assert.equal(r.statusCode, 401, h);
    }
    const erase = await get('/v1/profiles/user:x', keys.erase);
    assert.equal(erase.statusCode, 403);
    assert.equal(erase.json().code, 'forbidden');
    assert.equal((await get('/metrics', keys.read)).statusCode, 403);
    const metrics = await get('/metrics', keys.admin);
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.body, /ps_api_requests_total\{[^}]*route="\/v1\/profiles\/:ref"/);
    assert.equal((await get('/nowhere', keys.read)).json().code, 'not_found');
  });

  test('`apikey list` shows ids and scopes, never a key or its hash; a revoked key stops working at once', async () => {
    const made = cliKey(cliEnv, 'read,consent');
    assert.deepEqual(made.scopes, ['read', 'consent']);
    assert.equal((await get('/v1/segments', made.key)).statusCode, 200);
    const list = runCli(['apikey', 'list', '--json'], { env: cliEnv });
    assert.equal(list.status, 0, list.stderr);
    const rows = list.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; scopes: string[] });
    assert.deepEqual(rows.find((x) => x.id === made.id)?.scopes, ['read', 'consent']);
    assert.ok(!list.stdout.includes(made.key.slice(21)), 'no secret in the list');
    const stored = await redis.hgetall(`${prefix}apikey:${made.id}`);
    assert.ok(stored.hash && !JSON.stringify(stored).includes(made.key.slice(21)), 'Redis holds the hash, not the key');
    assert.equal(runCli(['apikey', 'revoke', made.id], { env: cliEnv }).status, 0);
    assert.equal((await get('/v1/segments', made.key)).statusCode, 401);
    assert.equal(runCli(['apikey', 'revoke', made.id], { env: cliEnv }).status, 4, 'revoking twice says there is no such key');
    const bad = runCli(['apikey', 'create', '--scopes', 'read,root'], { env: cliEnv });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /invalid_options: --scopes/);
  });

  test('each key has its own rate limit: past it, 429 with Retry-After; another key goes on', async () => {
    // Its own counters (prefix), the same keys.
    const limited = await apiWith({ prefix: `${prefix}rl:`, rateLimitPerMinute: 3 });
    try {
      const call = (key: string) => limited.inject({ method: 'GET', url: '/v1/segments', headers: auth(key) });
      for (let i = 0; i < 3; i++) assert.equal((await call(keys.read)).statusCode, 200);
      const over = await call(keys.read);
      assert.equal(over.statusCode, 429);
      assert.equal(over.json().code, 'rate_limited');
      assert.ok(Number(over.headers['retry-after']) > 0, `Retry-After: ${over.headers['retry-after']}`);
      const other = cliKey(cliEnv, 'read').key;
      assert.equal((await call(other)).statusCode, 200);
      for (let i = 0; i < 5; i++) assert.equal((await limited.inject({ method: 'GET', url: '/health' })).statusCode, 200, '/health is not limited');
    } finally {
      await limited.close();
    }
  });
});

describe('segments, docs, health', () => {
  test('/v1/segments lists the loaded definitions', async () => {
    const r = await get('/v1/segments', keys.read);
    assert.equal(r.statusCode, 200);
    const { segments } = r.json() as { segments: { id: string; name: string; version: number; description: string }[] };
    const shipped = await loadDefinitions(SEGMENTS);
    assert.deepEqual(
      segments.map((s) => [s.id, s.version, s.name]),
      shipped.map((s) => [s.id, s.version, s.name]),
    );
    assert.ok(segments.every((s) => s.description.length > 0));
  });

  test('/docs is an OpenAPI 3.1 document listing every route, with its schemas and the bearer scheme', async () => {
    const r = await get('/docs', keys.read);
    assert.equal(r.statusCode, 200);
    const doc = r.json() as {
      openapi: string;
      paths: Record<string, Record<string, { parameters?: unknown[]; responses: object }>>;
      components: { securitySchemes: { bearer: { scheme: string } }; schemas: Record<string, unknown> };
    };
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      '/docs',
      '/health',
      '/metrics',
      '/v1/accounts/{id}',
      '/v1/profiles/{ref}',
      '/v1/profiles/{ref}/segments',
      '/v1/profiles/{ref}/timeline',
      '/v1/profiles:batch',
      '/v1/segments',
      '/v1/segments/{id}/members',
    ]);
    assert.ok(doc.paths['/v1/profiles/{ref}']!.get!.parameters?.length, 'the ref parameter is documented');
    assert.ok('404' in doc.paths['/v1/profiles/{ref}']!.get!.responses);
    assert.equal(doc.components.securitySchemes.bearer.scheme, 'bearer');
    assert.deepEqual(Object.keys(doc.components.schemas).sort(), ['Explanation', 'Health', 'Problem', 'Profile']);
    assert.ok('application/problem+json' in (doc.paths['/v1/profiles/{ref}']!.get!.responses as Record<string, { content: object }>)['404']!.content);
    const page = await get('/docs', keys.read, { accept: 'text/html' });
    assert.match(String(page.headers['content-type']), /text\/html/);
    for (const path of Object.keys(doc.paths)) assert.ok(page.body.includes(`<code>${path}</code>`), path);
  });

  test('/health needs no key and checks Redis', async () => {
    const r = await get('/health');
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { status: 'ok', checks: { redis: true } });
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    const broken = await apiWith({ redis: down, keys: new ApiKeyStore({ redis: down, prefix }) });
    try {
      const r2 = await broken.inject({ method: 'GET', url: '/health' });
      assert.equal(r2.statusCode, 503);
      assert.deepEqual(r2.json(), { status: 'unhealthy', checks: { redis: false } });
      const r3 = await broken.inject({ method: 'GET', url: '/v1/segments', headers: auth(keys.read) });
      assert.equal(r3.statusCode, 503, r3.body);
      assert.equal(r3.json().code, 'dependency_unavailable');
    } finally {
      await broken.close();
      down.disconnect();
    }
  });
});

test('the service over real HTTP: started from its config, it answers on its port and drains', async () => {
  const cfg = loadProfileApiConfig({ ...cliEnv, PROFILE_API_PORT: '0', LOG_LEVEL: 'silent' });
  assert.equal(cfg.host, '127.0.0.1');
  const svc = await startProfileApi(cfg);
  try {
    const v = await richView(store);
    const base = `http://127.0.0.1:${svc.port}`;
    const r = await fetch(`${base}/v1/profiles/${encodeURIComponent(`email:${v.identity.emails[0]!}`)}`, { headers: auth(keys.read) });
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { profile: View }).profile.profile_id, v.profile_id);
    assert.equal((await fetch(`${base}/health`)).status, 200);
    assert.equal((await fetch(`${base}/v1/segments`)).status, 401);
  } finally {
    await svc.stop();
  }
});

test("the service explains rfm-* segments with the population's current RFM breakpoints, as the segmenter scores them, not the static model", async () => {
  const q: PopulationQuintiles = {
    customers: 100,
    recencyAges: [400 * DAY, 100 * DAY, 30 * DAY, 2 * DAY],
    frequency: [1, 2, 4, 8],
    monetary: Object.fromEntries(['GBP', 'EUR', 'USD'].map((c) => [c, { customers: 100, quintiles: [10, 2_000, 30_000, 300_000] }])),
  };
  const m = populationModel(q, 50);
  assert.ok(m.ok);
  const versions = new RfmVersions(redis, prefix);
  const version = await versions.publish(versionDoc(q, m.model, m.skipped, Date.now(), Date.now()));
  // a customer the two models score differently, so an explanation can only match one of them
  let found: { ref: string; population: unknown } | undefined;
  for (const pid of await store.profileIds()) {
    const p = (await store.read(pid))!;
    const f = factsOf(profileView(p.doc as never, { profile_id: p.profileId, merged_ids: p.mergedIds }) as never);
    const now = Date.now();
    const [population, fixed] = [modelOf(version), DEFAULT_RFM_MODEL].map((model) => rfmScores(model, f.lastPurchaseAt, f.ordersCount, f.revenue, now));
    if (population && fixed && JSON.stringify(population) !== JSON.stringify(fixed)) {
      found = { ref: p.profileId, population };
      break;
    }
  }
  assert.ok(found, 'a generated customer scored differently by the two models');
  const svc = await startProfileApi(loadProfileApiConfig({ ...cliEnv, PROFILE_API_PORT: '0', LOG_LEVEL: 'silent' }));
  try {
    const r = await fetch(`http://127.0.0.1:${svc.port}/v1/profiles/${found.ref}/segments?all=1`, { headers: auth(keys.read) });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { segments: { id: string; why: { conditions: { field: string; actual: unknown }[] } }[] };
    const rfm = body.segments.filter((s) => s.id.startsWith('rfm-'));
    assert.ok(rfm.length >= 5, 'every rfm-* segment is explained');
    for (const s of rfm)
      assert.deepEqual(s.why.conditions.find((c) => c.field === 'rfm')?.actual, found.population, `${s.id}: scored with version ${version.version}`);
  } finally {
    await svc.stop();
  }
});
