/**
 * The three stitchers as real processes on the real stack: generated customers end as exactly the oracle's
 * profiles; a replay from offset 0 changes nothing; kill -9 mid-batch then restart loses and double-counts nothing.
 */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { generate, type GeneratedRecord } from '@profile-stream/generator';
import { ProfileStore } from '@profile-stream/profile';
import { runCli, testEnv, type TestEnv } from './support/index.ts';
import { INPUTS, oracleProfiles, produceRecords, startService, stopService, waitCommitted, type ServiceProcess } from './support/pipeline.ts';

const DAY = 86_400_000;
let env: TestEnv;
let redis: Redis;
let store: ProfileStore;
let childEnv: NodeJS.ProcessEnv;
const records: GeneratedRecord[] = [];
const group = (name: string, suffix = '') => `${env.prefix}${name}${suffix}`;

function serviceEnv(name: string, suffix = ''): NodeJS.ProcessEnv {
  return { ...childEnv, STITCHER_GROUP_ID: group(name, suffix) };
}

beforeAll(async () => {
  env = await testEnv('stitch');
  childEnv = { ...env.childEnv, REDIS_PREFIX: `${env.prefix}ps:`, STITCHER_OPS_PORT: '0' };
  redis = new Redis(env.conn.redis.url);
  store = new ProfileStore({ redis, prefix: `${env.prefix}ps:`, windowMs: 90 * DAY });
});
afterAll(() => redis.disconnect());

async function runAll(suffix = ''): Promise<void> {
  const services: ServiceProcess[] = INPUTS.map((n) => startService(serviceEnv(n, suffix), n));
  try {
    for (const n of INPUTS) await waitCommitted(env.kafka, group(n, suffix), env.topics[n].topic);
  } finally {
    for (const s of services) assert.equal(await stopService(s), 0, s.stderr());
  }
}

async function snapshot(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const p of oracleProfiles(records)) {
    const [type, ...rest] = p.keys[0]!.split(':');
    const pid = await store.owner(type as 'email', rest.join(':'));
    assert.ok(pid, `no profile owns ${p.keys[0]}`);
    const stored = await store.read(pid);
    out.set(p.keys[0]!, JSON.stringify({ id: stored!.profileId, doc: stored!.doc, version: stored!.version }));
  }
  return out;
}

async function assertEqualsOracle(): Promise<void> {
  const oracle = oracleProfiles(records);
  const roots = new Set<string>();
  for (const p of oracle) {
    const owners = new Set<string>();
    for (const k of p.keys) {
      const [type, ...rest] = k.split(':');
      const pid = await store.owner(type as 'email', rest.join(':'));
      assert.ok(pid, `identifier ${k} has no profile`);
      owners.add(await store.root(pid));
    }
    assert.equal(owners.size, 1, `identifiers of one customer ended in ${owners.size} profiles: ${p.keys.join(', ')}`);
    const [root] = owners;
    roots.add(root!);
    const stored = await store.read(root!);
    assert.deepEqual(stored!.doc, p.doc, `profile ${root} (${p.keys[0]}) differs from the oracle`);
  }
  assert.equal(roots.size, oracle.length, 'one profile per oracle profile');
}

test("generated customers (with junk ids, duplicates, malformed events) become exactly the oracle's profiles", async () => {
  const start = Math.floor((Date.now() - 20 * DAY) / DAY) * DAY;
  for (const r of generate({ seed: 101, customers: 80, days: 14, start, junkRate: 0.03, malformedRate: 0.01, duplicateRate: 0.01 })) records.push(r);
  await produceRecords(env, records);
  await runAll();
  await assertEqualsOracle();
});

test('`profile` finds a customer by any spelling of their e-mail or phone or by user id; an unknown one says so', async () => {
  const oracle = oracleProfiles(records);
  const rich = oracle.find(
    (p) => p.keys.some((k) => k.startsWith('email:')) && p.keys.some((k) => k.startsWith('phone:+44')) && p.keys.some((k) => k.startsWith('user_id:')),
  );
  assert.ok(rich, 'the data set has a customer with e-mail, UK phone and user id');
  const email = rich.keys.find((k) => k.startsWith('email:'))!.slice(6);
  const phone = rich.keys.find((k) => k.startsWith('phone:'))!.slice(6);
  const user = rich.keys.find((k) => k.startsWith('user_id:'))!.slice(8);
  const cliEnv = { ...childEnv };
  const views = [`email:  ${email.toUpperCase()} `, `phone:0${phone.slice(3, 7)} ${phone.slice(7)}`, `user:${user}`].map((ref) => {
    const r = runCli(['profile', ref, '--json'], { env: cliEnv });
    assert.equal(r.status, 0, `${ref}: ${r.stderr}`);
    return JSON.parse(r.stdout) as { profile_id: string; identity: { emails: string[]; phones: string[]; user_ids: string[] } };
  });
  assert.equal(new Set(views.map((v) => v.profile_id)).size, 1);
  assert.ok(views[0]!.identity.emails.includes(email));
  assert.ok(views[0]!.identity.phones.includes(phone));
  const text = runCli(['profile', `user:${user}`], { env: cliEnv });
  assert.match(text.stdout, new RegExp(`^Profile ${views[0]!.profile_id}`));
  assert.match(text.stdout, /\n {2}identity\n/);
  const missing = runCli(['profile', 'email:nobody@nowhere.example'], { env: cliEnv });
  assert.equal(missing.status, 4);
  assert.match(missing.stderr, /no profile for/);
});

test('a replay of every topic from offset 0 (a new consumer group) changes no profile, not even its version', async () => {
  const before = await snapshot();
  await runAll('-replay');
  assert.deepEqual(await snapshot(), before);
});

test('a stitcher killed with SIGKILL mid-batch and restarted: profiles still equal the oracle', async () => {
  const start = Math.floor((Date.now() - 10 * DAY) / DAY) * DAY;
  const more: GeneratedRecord[] = [];
  for (const r of generate({ seed: 202, customers: 150, days: 8, start, malformedRate: 0, duplicateRate: 0.01 })) more.push(r);
  records.push(...more);
  await produceRecords(env, more);
  const first = startService({ ...serviceEnv('clickstream'), STITCHER_CHUNK_SIZE: '50' }, 'clickstream');
  // Let it get going, then kill it without warning somewhere in the middle.
  const admin = env.kafka.admin();
  await admin.connect();
  const topic = env.topics.clickstream.topic;
  const total = async () =>
    (await admin.fetchOffsets({ groupId: group('clickstream'), topics: [topic] }))[0]!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
  const at = await total();
  const deadline = Date.now() + 60_000;
  while ((await total()) < at + 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await admin.disconnect();
  await stopService(first, 'SIGKILL');
  await runAll();
  await assertEqualsOracle();
});
