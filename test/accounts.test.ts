/**
 * B2B accounts end to end (issue 15): generated customers, some of them the three contacts of a company, go through
 * Kafka and the three stitchers (real processes); `profile-stream account <id> --json` (and the store the API reads)
 * shows each company as the oracle computes it from the generated events: its contacts, their revenue per currency,
 * orders, open tickets, worst CSAT and last activity.
 */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { buildApi } from '@profile-stream/api';
import { companyOf, generate, type GeneratedRecord } from '@profile-stream/generator';
import { accountJson, accountView, contactAccount, contactContribution, ProfileStore } from '@profile-stream/profile';
import { apiDeps, cliKey } from './support/api.ts';
import { runCli, testEnv, type TestEnv } from './support/index.ts';
import { INPUTS, oracleProfiles, produceRecords, startService, stopService, waitCommitted, type ServiceProcess } from './support/pipeline.ts';

const DAY = 86_400_000;
const SEED = 1515;
const CUSTOMERS = 60;
let env: TestEnv;
let redis: Redis;
let store: ProfileStore;
let prefix: string;
const records: GeneratedRecord[] = [];
let shownByCli: Record<string, unknown> | undefined;

beforeAll(async () => {
  env = await testEnv('accounts');
  prefix = `${env.prefix}ps:`;
  redis = new Redis(env.conn.redis.url);
  store = new ProfileStore({ redis, prefix, windowMs: 90 * DAY });
});
afterAll(() => redis.disconnect()); // keys under the test's prefix go with the test data (as in stitching.test.ts)

test('companies of generated contacts become account profiles equal to the oracle, shown by `profile-stream account`', async () => {
  const start = Math.floor((Date.now() - 40 * DAY) / DAY) * DAY;
  const options = { seed: SEED, customers: CUSTOMERS, days: 30, start, companyShare: 0.5 };
  for (const r of generate(options)) records.push(r);
  const companies = new Map<string, number>();
  for (let i = 0; i < CUSTOMERS; i++) {
    const c = companyOf({ seed: SEED, companyShare: 0.5 }, i);
    if (c) companies.set(c.account_id, (companies.get(c.account_id) ?? 0) + 1);
  }
  assert.ok(companies.size >= 3, `the generator made ${companies.size} companies`);
  for (const n of companies.values()) assert.equal(n, 3, 'three contacts per company');

  await produceRecords(env, records);
  const childEnv = { ...env.childEnv, REDIS_PREFIX: prefix, STITCHER_OPS_PORT: '0' };
  const services: ServiceProcess[] = INPUTS.map((n) => startService({ ...childEnv, STITCHER_GROUP_ID: `${env.prefix}${n}` }, n));
  try {
    for (const n of INPUTS) await waitCommitted(env.kafka, `${env.prefix}${n}`, env.topics[n].topic);
  } finally {
    for (const s of services) assert.equal(await stopService(s), 0, s.stderr());
  }

  // the oracle: each stitched customer's document (from the events alone), its live profile id, grouped by account
  const byAccount = new Map<string, ReturnType<typeof contactContribution>[]>();
  for (const p of oracleProfiles(records)) {
    const [type, ...rest] = p.keys[0]!.split(':');
    const pid = await store.root((await store.owner(type as 'email', rest.join(':')))!);
    const a = contactAccount(p.doc);
    if (a === null) continue;
    assert.ok(companies.has(a.account_id), `${a.account_id} is a generated company`);
    byAccount.set(a.account_id, [...(byAccount.get(a.account_id) ?? []), contactContribution(pid, 0, p.doc)]);
  }
  assert.ok(byAccount.size >= 3, `${byAccount.size} accounts have contacts`);
  const sizes = [...byAccount.values()].map((c) => c.length);
  assert.ok(sizes.includes(3), `some company shows all three contacts (contacts per account: ${sizes.join(', ')})`);
  assert.ok(
    sizes.every((n) => n <= 3),
    `a contact is one profile once stitched (contacts per account: ${sizes.join(', ')})`,
  );
  const now = Date.now();
  for (const [id, contributions] of byAccount) {
    const run = runCli(['account', id, '--json'], { env: { ...env.childEnv, REDIS_PREFIX: prefix } });
    assert.equal(run.status, 0, run.stderr);
    const shown = JSON.parse(run.stdout) as Record<string, unknown>;
    const expected = accountJson(
      accountView(
        id,
        contributions.map((c) => c!),
        now,
      ),
    ) as Record<string, unknown>;
    assert.deepEqual(
      { ...shown, contacts: [...(shown.contacts as string[])].sort() },
      { ...expected, contacts: [...(expected.contacts as string[])].sort() },
      id,
    );
    shownByCli ??= shown;
    if ((shown.orders_count as number) > 0) assert.ok(shown.name && shown.domain, `${id}: orders carry the name and domain`);
  }
  const missing = runCli(['account', 'acct_no_such', '--json'], { env: { ...env.childEnv, REDIS_PREFIX: prefix } });
  assert.equal(missing.status, 4);
});

test("GET /v1/accounts/:id (scope read) answers the CLI's JSON; 404 for an account without contacts, 401 without a key", async () => {
  assert.ok(shownByCli, 'the first test stored accounts');
  const { key } = cliKey({ ...env.childEnv, REDIS_PREFIX: prefix }, 'read');
  const app = await buildApi(apiDeps({ redis, prefix, store, log: env.log }));
  try {
    const id = String(shownByCli.account_id);
    const ok = await app.inject({ method: 'GET', url: `/v1/accounts/${encodeURIComponent(id)}`, headers: { authorization: `Bearer ${key}` } });
    assert.equal(ok.statusCode, 200, ok.body);
    const body = ok.json() as Record<string, unknown>;
    assert.deepEqual(body, shownByCli);
    const missing = await app.inject({ method: 'GET', url: '/v1/accounts/acct_no_such', headers: { authorization: `Bearer ${key}` } });
    assert.equal(missing.statusCode, 404);
    assert.equal((missing.json() as { code: string }).code, 'not_found');
    const anonymous = await app.inject({ method: 'GET', url: `/v1/accounts/${encodeURIComponent(id)}` });
    assert.equal(anonymous.statusCode, 401);
  } finally {
    await app.close();
  }
});
