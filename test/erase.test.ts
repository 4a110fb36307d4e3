/**
 * Erase end to end on the real stack: the purchases stitcher, the segmenter, the warehouse and the profile API as
 * processes. A customer known by two identities (merged by a linking event) is in `first-time-buyer`; then
 * `DELETE /v1/profiles/email:…`: the membership exits with reason `profile_erased`, a `profile-erased` record names the
 * root and the merged profile with the identifiers' hashes, no Redis key or value under the test's prefix holds an
 * identifier, no ClickHouse row holds one (or its hash: only the warehouse's `erasures` tombstones keep hashes), and the
 * audit record holds none. Erasing again answers the same audit id; a later event with the same e-mail makes a new
 * profile.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, test } from 'vitest';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { eventKey } from '@profile-stream/contracts';
import { createProducer } from '@profile-stream/consumer-kit';
import { identifierHash } from '@profile-stream/warehouse';
import { runCli, waitUntil } from './support/index.ts';
import { startService, stopService, waitCommitted, type ServiceProcess } from './support/pipeline.ts';
import { membershipEvents, settle, setup, type Ctx } from './support/segments.ts';
import { freePort } from './support/warehouse.ts';

const DAY = 86_400_000;
const KEY = 'erase-test-key-0123456789';
const EMAIL = 'ada.erase@example.com';
const SECRETS = [EMAIL, 'u-ada-erase', 'dev-ada-1'];
const HASHES = [identifierHash(KEY, 'email', EMAIL), identifierHash(KEY, 'user_id', 'u-ada-erase'), identifierHash(KEY, 'anonymous_id', 'dev-ada-1')];
const now = Date.now();

let c: Ctx;
let ch: ClickHouseClient;
const services: ServiceProcess[] = [];
let base: string;
let stitcherOps = 0;
let eraseKey = '';
let eraseKeyId = '';

type Ids = Record<'anonymous_id' | 'user_id' | 'email' | 'phone', string | null>;
const purchase = (id: string, ids: Partial<Ids>, at: number, status: 'completed' | 'cancelled' = 'completed') => ({
  anonymous_id: null,
  user_id: null,
  email: null,
  phone: null,
  ...ids,
  event_id: `${c.env.prefix}${id}`,
  occurred_at: at,
  order_id: `o-${id}`,
  status,
  channel: 'web',
  currency: 'GBP',
  total_minor: 1000,
  items: [],
});

/** Produces purchases and waits until the purchases stitcher (running) has committed them. */
async function stitch(events: ReturnType<typeof purchase>[]): Promise<void> {
  const topic = c.env.topics.purchases.topic;
  const p = createProducer(c.env.kafka);
  await p.connect();
  try {
    for (const e of events)
      await p.send({ topic, acks: -1, messages: [{ key: eventKey('purchases', e as never), value: await c.env.registry.encode(topic, e) }] });
  } finally {
    await p.disconnect();
  }
  await waitCommitted(c.env.kafka, `${c.env.prefix}purchases`, topic);
}

/** What erasures took from the purchases stitcher's memory so far (its /metrics). */
async function forgotten(): Promise<{ erasures: number; resolutions: number; documents: number }> {
  const text = await (await fetch(`http://127.0.0.1:${stitcherOps}/metrics`)).text();
  const of = (what: string) => Number(new RegExp(`^ps_stitcher_erasures_forgotten_total\\{[^}]*what="${what}"[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { erasures: of('erasures'), resolutions: of('resolutions'), documents: of('documents') };
}

/** The purchases stitcher's fold rounds by "base → answer" (ps_profile_fold_rounds_total on its /metrics). */
async function foldRounds(): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${stitcherOps}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^ps_profile_fold_rounds_total\{([^}]*)\} (\d+)/gm)) {
    const label = (k: string) => new RegExp(`${k}="([^"]*)"`).exec(m[1]!)?.[1];
    out.set(`${label('base')} → ${label('result')}`, Number(m[2]));
  }
  return out;
}

const q = async <T = Record<string, unknown>>(sql: string) => (await ch.query({ query: sql, format: 'JSONEachRow' })).json<T>();

/** `key: secret` for every key under the test's prefix whose name or value holds an identifier (SCAN, then each value). */
async function redisHolding(): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await c.redis.scan(cursor, 'MATCH', `${c.profiles.keys.prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) {
      const type = await c.redis.type(k);
      const value =
        type === 'string'
          ? await c.redis.get(k)
          : type === 'hash'
            ? JSON.stringify(await c.redis.hgetall(k))
            : type === 'set'
              ? JSON.stringify(await c.redis.smembers(k))
              : type === 'zset'
                ? JSON.stringify(await c.redis.zrange(k, 0, -1))
                : type === 'list'
                  ? JSON.stringify(await c.redis.lrange(k, 0, -1))
                  : JSON.stringify(await c.redis.xrange(k, '-', '+'));
      for (const secret of SECRETS) if (`${k} ${value}`.toLowerCase().includes(secret.toLowerCase())) found.push(`${k}: ${secret}`);
    }
  } while (cursor !== '0');
  return found;
}

/** `table: needle` for every warehouse table (but the `erasures` tombstones) with a row holding an identifier or its hash. */
async function clickhouseHolding(): Promise<string[]> {
  const tables = (await q<{ name: string }>("SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree%'")).map(
    (t) => t.name,
  );
  assert.ok(tables.includes('purchases') && tables.includes('profiles'), tables.join(','));
  const found: string[] = [];
  for (const t of tables.filter((x) => x !== 'erasures')) {
    for (const s of [...SECRETS, ...HASHES]) {
      const [row] = await q<{ n: string }>(`SELECT count() AS n FROM \`${t}\` WHERE positionCaseInsensitive(formatRow('TSV', *), '${s}') > 0`);
      if (Number(row?.n) > 0) found.push(`${t}: ${s.slice(0, 12)}`);
    }
  }
  return found;
}

const del = (ref: string, k = eraseKey) =>
  fetch(`${base}/v1/profiles/${encodeURIComponent(ref)}?reason=gdpr_request`, { method: 'DELETE', headers: { authorization: `Bearer ${k}` } });

beforeAll(async () => {
  const port = await freePort();
  c = await setup('erase', {
    PROFILE_API_PORT: '0',
    PII_HASH_KEY: KEY,
    WAREHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), 'ps-erase-')),
    WAREHOUSE_OPS_PORT: String(port),
    WAREHOUSE_BATCH_MS: '200',
  });
  c.childEnv.WAREHOUSE_GROUP_ID = `${c.env.prefix}warehouse`;
  ch = createClient({ url: `http://127.0.0.1:${port}` });
  const r = runCli(['apikey', 'create', '--scopes', 'erase', '--json'], { env: c.childEnv });
  assert.equal(r.status, 0, r.stderr);
  ({ key: eraseKey, id: eraseKeyId } = JSON.parse(r.stdout) as { key: string; id: string });
  stitcherOps = await freePort();
  services.push(startService({ ...c.childEnv, STITCHER_GROUP_ID: `${c.env.prefix}purchases`, STITCHER_OPS_PORT: String(stitcherOps) }, 'purchases'));
  services.push(startService(c.childEnv, 'segmenter'));
  services.push(startService(c.childEnv, 'warehouse'));
  const api = startService(c.childEnv, 'profile-api');
  services.push(api);
  const apiPort = await waitUntil('the profile-api to listen', () => /"port":(\d+)[^\n]*profile-api started/.exec(api.stderr())?.[1], 60_000);
  base = `http://127.0.0.1:${apiPort}`;
}, 180_000);

afterAll(async () => {
  const codes = [];
  for (const s of services.reverse()) codes.push(await stopService(s));
  await ch.close();
  await c.redis.quit();
  assert.deepEqual(
    codes.map((x) => x ?? 0),
    codes.map(() => 0),
    services.map((s) => s.stderr().slice(-1500)).join('\n'),
  );
});

test('a merged customer in a segment is erased everywhere; again → the same audit id; a later event → a new profile', async () => {
  // Two identities (an e-mail with a device; a user id), then the event that links them: one merged customer with one
  // completed order (the others cancelled), so in first-time-buyer.
  await stitch([
    purchase('a1', { email: EMAIL, anonymous_id: 'dev-ada-1' }, now - 3 * DAY),
    purchase('b1', { user_id: 'u-ada-erase' }, now - 2 * DAY, 'cancelled'),
  ]);
  await stitch([purchase('link', { user_id: 'u-ada-erase', email: EMAIL }, now - DAY, 'cancelled')]);
  const root = await c.profiles.owner('email', EMAIL);
  assert.ok(root);
  const merged = (await c.profiles.read(root))!.mergedIds;
  assert.equal(merged.length, 1, 'the two identities were merged');
  await settle(c);
  assert.ok(
    membershipEvents(c).some((e) => e.profile_id === root && e.segment_id === 'first-time-buyer' && e.change === 'entered'),
    'in first-time-buyer',
  );
  await waitCommitted(c.env.kafka, `${c.env.prefix}warehouse`, c.env.topics.purchases.topic);
  await waitUntil(
    'the warehouse to hold the profile',
    async () => Number((await q<{ n: string }>(`SELECT count() AS n FROM profiles WHERE profile_id = '${root}'`))[0]?.n) > 0,
    60_000,
  );

  // The searches below find the customer before the erase (so finding nothing after it means something).
  assert.ok((await redisHolding()).length >= SECRETS.length, 'Redis holds the identifiers before the erase');
  const before = await clickhouseHolding();
  assert.ok(before.some((x) => x.startsWith('purchases:')) && before.some((x) => x.startsWith('profiles:')), before.join(', '));

  // The stitcher reports its fold rounds by where the base came from and the script's answer: the two new profiles
  // were folded with no read (known), and every round has both labels.
  const rounds = await foldRounds();
  assert.ok((rounds.get('known → written') ?? 0) >= 2, JSON.stringify([...rounds]));
  for (const k of rounds.keys()) assert.match(k, /^(known|kept|read|reply) → (written|stale|moved|busy|dups|erased)$/);
  assert.deepEqual(await forgotten(), { erasures: 0, resolutions: 0, documents: 0 });
  const res = await del(`email:${EMAIL.toUpperCase()}`);
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as Record<string, unknown> & { counts: Record<string, number> };
  assert.equal(body.erased, 'now');
  assert.equal(body.profile_id, root);
  assert.deepEqual(body.merged_ids, merged);
  assert.equal(body.counts.identifiers, 3);
  assert.equal(body.reason, 'gdpr_request');
  const auditId = String(body.audit_id);

  // The segmenter retires the profile: an exit with reason profile_erased.
  await settle(c);
  await waitUntil('an exit with reason profile_erased', () =>
    membershipEvents(c).some((e) => e.profile_id === root && e.segment_id === 'first-time-buyer' && e.change === 'exited' && e.reason === 'profile_erased'),
  );
  // The profile-erased record.
  const erased = runCli(['consume', c.env.topics['profile-erased'].topic], { env: c.childEnv });
  assert.equal(erased.status, 0, erased.stderr);
  const records = erased.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(records.length, 1);
  assert.equal(records[0]!.profile_id, root);
  assert.deepEqual(records[0]!.merged_ids, merged);
  assert.deepEqual([...(records[0]!.identifier_hashes as string[])].sort(), [...HASHES].sort());

  // The purchases stitcher heard it: the resolutions of the customer's identifiers (its cache keys are the
  // identifiers) and the documents it last wrote of the two profiles left its memory.
  const heard = await waitUntil('the purchases stitcher to hear the erasure', async () => {
    const f = await forgotten();
    return f.erasures === 1 && f;
  });
  assert.ok(heard.resolutions >= 2, `both identifier sets the stitcher resolved: ${JSON.stringify(heard)}`);
  assert.ok(heard.documents >= 1, `the root's kept document: ${JSON.stringify(heard)}`);

  // Redis: no key or value under the test's prefix holds an identifier.
  assert.deepEqual(await redisHolding(), []);
  // The audit record: who, why, what, no PII.
  const audit = await c.redis.xrange(c.profiles.keys.auditLog, '-', '+');
  assert.equal(audit.length, 1);
  const flat = audit[0]![1];
  const fields = Object.fromEntries(flat.flatMap((v, i) => (i % 2 ? [] : [[v, flat[i + 1]]])));
  assert.equal(fields.audit_id, auditId);
  assert.equal(fields.requested_by, eraseKeyId, 'the API key id');
  for (const s of SECRETS) assert.ok(!JSON.stringify(fields).includes(s), 'no PII in the audit record');
  assert.equal(fields.reason, 'gdpr_request');
  assert.equal(fields.profile_id, root);

  // ClickHouse: no row holds an identifier or its hash (the erasures table keeps the hashes as tombstones).
  await waitCommitted(c.env.kafka, `${c.env.prefix}warehouse`, c.env.topics['profile-erased'].topic);
  assert.deepEqual(await clickhouseHolding(), []);

  // Again: the same audit id.
  for (const ref of [`email:${EMAIL}`, root, merged[0]!]) {
    const again = await del(ref);
    assert.equal(again.status, 200, await again.clone().text());
    const b = (await again.json()) as { erased: string; audit_id: string };
    assert.deepEqual([b.erased, b.audit_id], ['already', auditId], ref);
  }
  // The CLI runs the same erase: already, the same audit id; an unknown ref exits 4.
  const cli = runCli(['erase', `user:u-ada-erase`, '--json'], { env: c.childEnv });
  assert.equal(cli.status, 0, cli.stderr);
  assert.deepEqual([JSON.parse(cli.stdout).erased, JSON.parse(cli.stdout).audit_id], ['already', auditId]);
  assert.equal(runCli(['erase', 'email:nobody@example.com'], { env: c.childEnv }).status, 4);
  assert.equal((await del('email:nobody@example.com')).status, 404);
  assert.equal((await del(root, 'psk_not-a-key')).status, 401);
  const read = runCli(['apikey', 'create', '--scopes', 'read', '--json'], { env: c.childEnv });
  assert.equal((await del(root, (JSON.parse(read.stdout) as { key: string }).key)).status, 403, 'a read key may not erase');
  assert.equal((await del('email:not-an-email')).status, 400);

  // A later event with the same identifiers as the linking one (the stitcher's resolution cache maps them to the
  // erased profile): a new profile.
  await stitch([purchase('later', { user_id: 'u-ada-erase', email: EMAIL }, Date.now())]);
  const fresh = await c.profiles.owner('email', EMAIL);
  assert.ok(fresh && fresh !== root && !merged.includes(fresh), `a new profile (${fresh})`);
}, 600_000);
