/**
 * RFM on the population, on the real stack with the whole Online Retail file (541,909 rows): imported, folded by the
 * purchases stitcher, stored by the warehouse; `rfm compute` gives breakpoints equal to quintiles computed here from
 * the CSV (read without the importer's code, cleaned by the README's rules); every customer's R, F, M values (as the
 * profile holds them) and scores (as the segmenter computes them) equal this test's; a segmenter (population mode, a
 * fixed clock) puts every customer in the rfm-* segments its scores say, re-scores everyone with reason
 * definition_changed when a new version appears; the warehouse's schedule recomputes a stale version at start; an
 * empty population is degenerate and keeps what there is.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { copyFileSync, createReadStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, test } from 'vitest';
import { REPO_ROOT } from '@profile-stream/consumer-kit';
import { profileView, type ProfileDoc } from '@profile-stream/profile';
import { startSegmenter, loadSegmenterConfig, type RunningSegmenter } from '@profile-stream/segmenter';
import { factsOf, modelOf, rfmScores, RfmVersions, type RfmVersion } from '@profile-stream/segments';
import { CLI_MAIN, runCli, spawnTs, waitUntil } from './support/index.ts';
import { startService, stopService, waitCommitted, type ServiceProcess } from './support/pipeline.ts';
import { membershipEvents, setup, type Ctx } from './support/segments.ts';
import { freePort } from './support/warehouse.ts';

const FILE = resolve(REPO_ROOT, '../shared/data/online_retail.csv.gz');
const DAY = 86_400_000;
/** The day after the last invoice (2011-12-09 12:50 UK time): ages are measured from here. */
const AS_OF = Date.UTC(2011, 11, 10);
const SEGMENTS = ['rfm-at-risk', 'rfm-champions', 'rfm-hibernating', 'rfm-lost', 'rfm-loyal'] as const;

let c: Ctx;
let versions: RfmVersions;
let wh: ServiceProcess | undefined;
let whEnv: NodeJS.ProcessEnv;
beforeAll(async () => {
  // the five rfm-* definitions only: the others have nothing to check here and would only cost time
  const segmentsDir = mkdtempSync(join(tmpdir(), 'ps-rfm-segments-'));
  for (const s of SEGMENTS) copyFileSync(resolve(REPO_ROOT, 'segments', `${s}.yaml`), join(segmentsDir, `${s}.yaml`));
  c = await setup('rfm', { LOG_LEVEL: 'warn', RFM_POLL_MS: '200', SEGMENTER_ROLES: 'evaluate,relay', SEGMENTS_DIR: segmentsDir });
  versions = new RfmVersions(c.redis, c.childEnv.REDIS_PREFIX!);
  whEnv = {
    ...c.childEnv,
    LOG_LEVEL: 'info', // for the "warehouse started" line
    WAREHOUSE_GROUP_ID: `${c.env.prefix}warehouse`,
    WAREHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), 'ps-rfm-')),
    WAREHOUSE_OPS_PORT: String(await freePort()),
    RFM_RECOMPUTE_MINUTES: '0',
    PII_HASH_KEY: 'rfm-test-key-0123456789',
  };
});
afterAll(async () => {
  if (wh) await stopService(wh);
  c.redis.disconnect();
});

// ---- The independent reading of the file: the README's cleaning rules, none of the importer's code ----

interface Customer {
  /** Invoice (not a C one) → the time of its earliest line. */
  orders: Map<string, number>;
  net: number;
}

/** "2011-03-27 09:00:00", UK local time → epoch ms. The file spans one summer time: 2011-03-27 01:00 to 2011-10-30 01:00 UTC. */
function ukTime(text: string): number {
  const [d, t] = text.split(' ');
  const [y, mo, da] = d!.split('-').map(Number);
  const [h, mi, s] = t!.split(':').map(Number);
  const local = Date.UTC(y!, mo! - 1, da!, h!, mi!, s!);
  const bst = local - 3600_000 >= Date.UTC(2011, 2, 27, 1) && local - 3600_000 < Date.UTC(2011, 9, 30, 1);
  return bst ? local - 3600_000 : local;
}

/** Pence from a decimal text, half away from zero; undefined when it is not one. */
function pence(text: string): number | undefined {
  const m = /^(-?)(\d*)\.?(\d*)$/.exec(text);
  if (!m || (m[2] === '' && m[3] === '')) return undefined;
  const v = Number(m[2] || '0') * 100 + Number((m[3] ?? '').padEnd(3, '0').slice(0, 2)) + ((m[3] ?? '').charCodeAt(2) >= 53 ? 1 : 0);
  return m[1] === '-' ? -v : v;
}

async function readCustomers(): Promise<Map<string, Customer>> {
  const customers = new Map<string, Customer>();
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(FILE).pipe(createGunzip()) })) {
    if (n++ === 0) continue;
    const [invoice = '', , , qty = '', date = '', price = '', id = ''] = [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(?:,|$)/g)].map((m) => m[1] ?? '');
    const q = Number(qty);
    const p = pence(price);
    const cancel = invoice.startsWith('C');
    if (id === '' || !Number.isInteger(q) || q === 0 || (cancel ? q > 0 : q < 0) || p === undefined || p <= 0) continue;
    const key = `retail:${id.replace(/\.0+$/, '')}`;
    const cu = customers.get(key) ?? { orders: new Map<string, number>(), net: 0 };
    customers.set(key, cu);
    cu.net += cancel ? -Math.abs(q) * p : q * p;
    if (!cancel) cu.orders.set(invoice, Math.min(cu.orders.get(invoice) ?? Number.POSITIVE_INFINITY, ukTime(date)));
  }
  return customers;
}

interface Rfm {
  age: number;
  orders: number;
  net: number;
}

const rfmOf = (cu: Customer): Rfm | undefined =>
  cu.orders.size === 0 ? undefined : { age: AS_OF - Math.max(...cu.orders.values()), orders: cu.orders.size, net: cu.net };

/** Quintile breakpoints as the README states them, for values where more is better: the value at rank ⌈k·n/5⌉ + 1, ties one up. */
function breakpoints(values: number[]): number[] {
  const s = [...values].sort((a, b) => a - b);
  const out: number[] = [];
  for (let k = 1; k <= 4; k++) out.push(Math.max(s[Math.ceil((k * s.length) / 5) - 1]! + 1, (out.at(-1) ?? Number.NEGATIVE_INFINITY) + 1));
  return out;
}

interface Expected {
  recency: number[];
  frequency: number[];
  monetary: number[];
}

function expectedBreakpoints(pop: Rfm[]): Expected {
  return {
    recency: breakpoints(pop.map((x) => -x.age))
      .map((b) => 1 - b)
      .reverse(),
    frequency: breakpoints(pop.map((x) => x.orders)),
    monetary: breakpoints(pop.map((x) => x.net)),
  };
}

const passed = (v: number, b: number[]) => b.filter((x) => v >= x).length;
const scoresOf = (x: Rfm, b: Expected) => ({ r: 5 - passed(x.age, b.recency), f: 1 + passed(x.orders, b.frequency), m: 1 + passed(x.net, b.monetary) });

/** The shipped rfm-* definitions' ranges, written out. */
function segmentsOf(s: { r: number; f: number; m: number }): string[] {
  const champion = s.r >= 4 && s.f >= 4 && s.m >= 4;
  const out: string[] = [];
  if (s.r <= 2 && s.f >= 3) out.push('rfm-at-risk');
  if (champion) out.push('rfm-champions');
  if (s.r === 2 && s.f <= 2) out.push('rfm-hibernating');
  if (s.r === 1 && s.f <= 2) out.push('rfm-lost');
  if (s.r >= 3 && s.f >= 3 && !champion) out.push('rfm-loyal');
  return out;
}

// ---- helpers on the stack ----

function compute(args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  return runCli(['rfm', 'compute', '--json', ...args], { env: whEnv, timeoutMs: 300_000 });
}

async function profileOf(user: string): Promise<{ pid: string; doc: ProfileDoc }> {
  const pid = (await c.profiles.owner('user_id', user))!;
  const p = (await c.profiles.read(pid))!;
  return { pid: p.profileId, doc: p.doc as ProfileDoc };
}

async function membershipsNow(pids: Iterable<string>): Promise<Map<string, string[]>> {
  const members = new Map<string, Set<string>>(await Promise.all(SEGMENTS.map(async (s) => [s, new Set(await c.memberships.members(s))] as const)));
  return new Map([...pids].map((pid) => [pid, SEGMENTS.filter((s) => members.get(s)!.has(pid))]));
}

test('Online Retail: breakpoints, every customer R, F, M and scores, the rfm-* segments following each new version, the schedule', {
  timeout: 900_000,
}, async () => {
  const t0 = Date.now();
  wh = startService(whEnv, 'warehouse');
  await waitUntil('the warehouse', () => wh!.started(), 60_000);

  // an empty warehouse: degenerate, nothing stored
  const empty = compute();
  assert.equal(empty.status, 1);
  const [, errorCode, message] = /^profile-stream: (\w+): (.*)$/m.exec(empty.stderr) ?? [];
  assert.equal(errorCode, 'degenerate_population', empty.stderr);
  assert.match(message!, /^degenerate population: 0 customer\(s\) with a completed order, fewer than the 50 needed .*no version exists yet/);
  assert.equal(await versions.currentVersion(), 0);

  // the import, the stitcher folding as it goes, and this test reading the file, all at once
  const stitcher = startService({ ...c.childEnv, STITCHER_GROUP_ID: `${c.env.prefix}purchases` }, 'purchases');
  const importing = spawnTs(CLI_MAIN, ['import', 'purchases', FILE, '--preset', 'online-retail', '--json'], c.childEnv);
  let out = '';
  importing.stdout!.on('data', (d) => {
    out += d;
  });
  let err = '';
  importing.stderr!.on('data', (d) => {
    err = (err + d).slice(-10_000);
  });
  const reading = readCustomers();
  const [code] = (await once(importing, 'exit')) as [number | null];
  assert.equal(code, 0, err);
  const report = JSON.parse(out) as { rows: number; sent: number };
  assert.equal(report.rows, 541_909);
  const tImport = Date.now();
  await waitCommitted(c.env.kafka, `${c.env.prefix}purchases`, c.env.topics.purchases.topic, 300_000);
  assert.equal(await stopService(stitcher), 0, stitcher.stderr());
  await waitCommitted(c.env.kafka, `${c.env.prefix}warehouse`, c.env.topics.purchases.topic, 300_000);
  const tFolded = Date.now();

  const customers = await reading;
  const population = new Map([...customers].flatMap(([k, cu]) => (rfmOf(cu) ? [[k, rfmOf(cu)!] as const] : [])));
  // the README's cleaned subset (CustomerID set, Quantity > 0, UnitPrice > 0): 4,338 customers, 18,532 invoices
  assert.deepEqual([population.size, [...population.values()].reduce((n, x) => n + x.orders, 0)], [4_338, 18_532]);
  const expected = expectedBreakpoints([...population.values()]);

  // on demand: the breakpoints equal this test's quintiles
  const first = compute(['--as-of', new Date(AS_OF).toISOString()]);
  assert.equal(first.status, 0, first.stderr);
  const v1 = (JSON.parse(first.stdout) as { version: RfmVersion }).version;
  assert.equal(v1.version, 1);
  assert.equal(v1.population.customers, population.size);
  assert.deepEqual(v1.breakpoints, { recency_ms: expected.recency, frequency: expected.frequency, monetary: { GBP: expected.monetary } });
  assert.equal(v1.as_of, new Date(AS_OF).toISOString());

  // every customer: the profile's R, F, M values and the segmenter's scores (factsOf + rfmScores) equal this test's
  const pids = new Map<string, string>();
  const scores = new Map<string, ReturnType<typeof scoresOf>>();
  const users = [...customers.keys()];
  const profiles = new Map<string, { pid: string; doc: ProfileDoc }>();
  for (let i = 0; i < users.length; i += 500) {
    const batch = users.slice(i, i + 500);
    for (const [j, p] of (await Promise.all(batch.map(profileOf))).entries()) profiles.set(batch[j]!, p);
  }
  for (const user of users) {
    const { pid, doc } = profiles.get(user)!;
    pids.set(user, pid);
    const facts = factsOf(profileView(doc, { profile_id: pid, merged_ids: [] }));
    const x = population.get(user);
    const got = rfmScores(modelOf(v1), facts.lastPurchaseAt, facts.ordersCount, facts.revenue, AS_OF);
    if (x === undefined) {
      assert.equal(got, null, `${user} has no completed order`);
      continue;
    }
    assert.deepEqual([AS_OF - facts.lastPurchaseAt!, facts.ordersCount, facts.revenue.GBP], [x.age, x.orders, x.net], user);
    scores.set(user, scoresOf(x, expected));
    assert.deepEqual(got, scores.get(user), user);
  }
  const spread = [1, 2, 3, 4, 5].map((s) => [...scores.values()].filter((x) => x.f === s).length);
  assert.ok(spread.filter((n) => n > 0).length >= 4, `frequency scores spread over the population: ${spread}`);

  // the segmenter follows version 1 (a fixed clock at AS_OF): every customer in exactly the segments its scores give
  const cfg = loadSegmenterConfig(c.childEnv);
  const seg: RunningSegmenter = await startSegmenter(cfg, { now: () => AS_OF });
  try {
    assert.equal(seg.rfm.version, 1);
    await waitCommitted(c.env.kafka, `${c.env.prefix}segmenter`, c.env.topics['profile-changes'].topic, 300_000);
    await waitUntil(
      'version 1 re-scored and the outbox relayed',
      async () => (await versions.backfilled()) === 1 && (await c.memberships.backlog()).outbox === 0,
      300_000,
    );
    const want = (b: Expected) => new Map([...pids].map(([user, pid]) => [pid, population.has(user) ? segmentsOf(scoresOf(population.get(user)!, b)) : []]));
    const want1 = want(expected);
    assert.deepEqual(await membershipsNow(pids.values()), want1);
    const tSegmented = Date.now();

    // a new version (the static model's breakpoints, as a population might move): every change re-scored, definition_changed
    const before = new Set(membershipEvents(c).map((e) => e.event_id));
    const moved: Expected = { recency: [30 * DAY, 90 * DAY, 180 * DAY, 365 * DAY], frequency: [2, 3, 5, 10], monetary: [5_000, 15_000, 40_000, 100_000] };
    const v2 = await versions.publish({
      ...v1,
      computed_at: new Date().toISOString(),
      breakpoints: { recency_ms: moved.recency, frequency: moved.frequency, monetary: { GBP: moved.monetary } },
    });
    await waitUntil(
      'version 2 re-scored and relayed',
      async () => (await versions.backfilled()) === 2 && (await c.memberships.backlog()).outbox === 0,
      300_000,
    );
    assert.equal(seg.rfm.version, v2.version);
    const want2 = want(moved);
    assert.deepEqual(await membershipsNow(pids.values()), want2);
    const changes = membershipEvents(c).filter((e) => !before.has(e.event_id));
    const diff = [...want2].flatMap(([pid, now]) => [
      ...now.filter((s) => !want1.get(pid)!.includes(s)).map((s) => `${pid} ${s} entered`),
      ...want1
        .get(pid)!
        .filter((s) => !now.includes(s))
        .map((s) => `${pid} ${s} exited`),
    ]);
    assert.ok(diff.length > 100, `the new breakpoints move customers (${diff.length})`);
    assert.deepEqual(changes.map((e) => `${e.profile_id} ${e.segment_id} ${e.change}`).sort(), diff.sort());
    assert.deepEqual([...new Set(changes.map((e) => e.reason))], ['definition_changed']);
    console.log(
      `rfm-population: import (warehouse start, stitcher folding along) ${tImport - t0} ms, the rest of the fold + warehouse ${tFolded - tImport} ms, ` +
        `compute + every customer + segmenter on v1 ${tSegmented - tFolded} ms, v2 re-scoring ${Date.now() - tSegmented} ms; ` +
        `${population.size} customers, v1 ${JSON.stringify(v1.breakpoints)}, ${diff.length} membership changes on v2`,
    );
  } finally {
    await seg.stop();
  }

  // the schedule: a warehouse starting with a version older than RFM_RECOMPUTE_MINUTES computes a new one at once
  assert.equal(await stopService(wh), 0, wh.stderr());
  await versions.publish({ ...v1, computed_at: new Date(Date.now() - 2 * 3600_000).toISOString() });
  const stale = await versions.currentVersion();
  wh = startService({ ...whEnv, RFM_RECOMPUTE_MINUTES: '60' }, 'warehouse');
  const v4 = await waitUntil(
    'the scheduled version',
    async () => ((await versions.currentVersion()) > stale ? (await versions.current())! : undefined),
    120_000,
  );
  const asOf = Date.parse(v4.as_of);
  assert.ok(Math.abs(asOf - Date.now()) < 120_000 && v4.computed_at === v4.as_of);
  const aged = [...population.values()].map((x) => ({ ...x, age: x.age + (asOf - AS_OF) }));
  const e4 = expectedBreakpoints(aged);
  assert.deepEqual(v4.breakpoints, { recency_ms: e4.recency, frequency: e4.frequency, monetary: { GBP: e4.monetary } });
  const shown = runCli(['rfm', 'show', '--history', '--json'], { env: c.childEnv });
  assert.equal(shown.status, 0, shown.stderr);
  const { versions: kept, backfilled } = JSON.parse(shown.stdout) as { versions: RfmVersion[]; backfilled: number };
  assert.deepEqual([kept.map((v) => v.version), backfilled], [[v4.version, 3, 2, 1], 2]);
  console.log(`rfm-population: the whole test ${Date.now() - t0} ms`);
});
