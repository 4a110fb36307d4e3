/**
 * Predictions end to end on the real stack: 600 customers of the CDNOW sample imported (`import purchases`), folded by
 * the purchases stitcher and stored by the warehouse; `predict fit` as of 1998-07-01 gives the model this test fits on
 * its own reading of the file; a population it cannot fit keeps the current model; `predict score` writes every
 * profile's predictions and publishes profile-changes with cause `predict`, and the segmenter puts exactly the
 * profiles the scores say into likely-to-churn and high-clv; `predict report` prints the holdout check. And the new
 * `predict` cause of ProfileChanged is a BACKWARD-compatible change for the registry.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, test } from 'vitest';
import { ProfileChangedSchema } from '@profile-stream/contracts';
import { REPO_ROOT } from '@profile-stream/consumer-kit';
import { bestOption, fitBgNbd, type PredictModel, probabilityAlive, type Rfm } from '@profile-stream/predict';
import type { ProfileDoc } from '@profile-stream/profile';
import { runCli, waitUntil } from './support/index.ts';
import { startService, stopService, waitCommitted, type ServiceProcess } from './support/pipeline.ts';
import { membershipEvents, settle, setup, type Ctx } from './support/segments.ts';
import { freePort } from './support/warehouse.ts';

const SAMPLE = resolve(REPO_ROOT, '../shared/data/cdnow_sample.txt.gz');
const DAY = 86_400_000;
const AS_OF = Date.UTC(1998, 6, 1);
const CUSTOMERS = 600;

let c: Ctx;
let wh: ServiceProcess | undefined;
let segmenter: ServiceProcess | undefined;
let whEnv: NodeJS.ProcessEnv;
const dir = mkdtempSync(join(tmpdir(), 'ps-predict-'));

beforeAll(async () => {
  c = await setup('predict', { LOG_LEVEL: 'warn' });
  whEnv = {
    ...c.childEnv,
    LOG_LEVEL: 'info', // for the "warehouse started" line
    WAREHOUSE_GROUP_ID: `${c.env.prefix}warehouse`,
    WAREHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), 'ps-predict-wh-')),
    WAREHOUSE_OPS_PORT: String(await freePort()),
    RFM_RECOMPUTE_MINUTES: '0',
    PII_HASH_KEY: 'predict-test-key-0123456789',
  };
});
afterAll(async () => {
  if (segmenter) await stopService(segmenter);
  if (wh) await stopService(wh);
  c.redis.disconnect();
});

/** The test's own reading of the file: customer → purchase days (day numbers since 1970, UTC). */
function sampleDays(lines: string[]): Map<string, number[]> {
  const days = new Map<string, Set<number>>();
  for (const line of lines) {
    const [id = '', , d = ''] = line.trim().split(/\s+/);
    const day = Date.UTC(Number(d.slice(0, 4)), Number(d.slice(4, 6)) - 1, Number(d.slice(6, 8))) / DAY;
    days.set(`cdnow:${id}`, (days.get(`cdnow:${id}`) ?? new Set()).add(day));
  }
  return new Map([...days].map(([k, s]) => [k, [...s].sort((a, b) => a - b)]));
}

const rfmOf = (days: number[]): Rfm => ({ x: days.length - 1, tx: days.at(-1)! - days[0]!, T: AS_OF / DAY - days[0]! });

function cli(args: string[]) {
  return runCli(args, { env: whEnv, timeoutMs: 300_000 });
}

test('the predict cause is a BACKWARD-compatible change of ProfileChanged (registry)', async () => {
  const url = c.env.conn.registry.url;
  const subject = `${c.env.prefix}compat-profile-changes-value`;
  const schema = ProfileChangedSchema as unknown as { fields: { name: string; type: unknown }[] };
  const before = {
    ...schema,
    fields: schema.fields.map((f) =>
      f.name === 'cause' ? { ...f, type: { ...(f.type as object), symbols: ['event', 'merge', 'tick', 'consent', 'erase'] } } : f,
    ),
  };
  const post = (path: string, s: object) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(s) }),
    });
  await fetch(`${url}/config/${subject}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ compatibility: 'BACKWARD' }),
  });
  assert.equal((await post(`/subjects/${subject}/versions`, before)).status, 200);
  const check = await post(`/compatibility/subjects/${subject}/versions/latest`, schema);
  assert.equal(check.status, 200);
  assert.equal(((await check.json()) as { is_compatible: boolean }).is_compatible, true);
  assert.equal((await post(`/subjects/${subject}/versions`, schema)).status, 200);
  // and the reverse (dropping a symbol) is what BACKWARD refuses: the check can fail
  const dropped = await post(`/compatibility/subjects/${subject}/versions/latest`, before);
  assert.equal(((await dropped.json()) as { is_compatible: boolean }).is_compatible, false);
});

test('import → warehouse → fit → score: the model, the kept model on a failed fit, every profile scored, both segments fire', {
  timeout: 600_000,
}, async () => {
  wh = startService(whEnv, 'warehouse');
  await waitUntil('the warehouse', () => wh!.started(), 60_000);

  // nothing in the warehouse: refused, nothing stored
  const empty = cli(['predict', 'fit', '--as-of', new Date(AS_OF).toISOString()]);
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /model_fit_failed: BG\/NBD fit: 0 customers, at least 20 are needed; no model exists yet/);

  const all = gunzipSync(readFileSync(SAMPLE)).toString('latin1').split(/\r?\n/).filter(Boolean);
  const lines = all.filter((l) => Number(l.trim().split(/\s+/)[1]) <= CUSTOMERS);
  const file = join(dir, 'cdnow-600.txt');
  writeFileSync(file, `${lines.join('\r\n')}\r\n`);
  const imported = runCli(['import', 'purchases', file, '--preset', 'cdnow', '--no-header', '--map', 'customer=1,at=3,quantity=4,amount=5', '--json'], {
    env: c.childEnv,
  });
  assert.equal(imported.status, 0, imported.stderr);
  const stitcher = startService({ ...c.childEnv, STITCHER_GROUP_ID: `${c.env.prefix}purchases` }, 'purchases');
  await waitCommitted(c.env.kafka, `${c.env.prefix}purchases`, c.env.topics.purchases.topic, 300_000);
  assert.equal(await stopService(stitcher), 0, stitcher.stderr());
  await waitCommitted(c.env.kafka, `${c.env.prefix}warehouse`, c.env.topics.purchases.topic, 300_000);

  // the fit: the same parameters as fitting this test's own reading of the file (to the optimiser's precision: the
  // customers come in another order, so the sums and the simplex's path differ in the last digits)
  const days = sampleDays(lines);
  assert.equal(days.size, CUSTOMERS);
  const fitted = cli(['predict', 'fit', '--as-of', new Date(AS_OF).toISOString(), '--json']);
  assert.equal(fitted.status, 0, fitted.stderr);
  const model = JSON.parse(fitted.stdout) as PredictModel;
  const own = fitBgNbd([...days.values()].map(rfmOf));
  assert.equal(model.version, 1);
  assert.equal(model.bgnbd.customers, CUSTOMERS);
  for (const k of ['r', 'alpha', 'a', 'b'] as const)
    assert.ok(Math.abs(model.bgnbd.params[k] / own.params[k] - 1) < 1e-4, `${k}: ${model.bgnbd.params[k]} vs ${own.params[k]}`);
  assert.ok(Math.abs(model.bgnbd.log_likelihood - own.logLikelihood) < 1e-4, `LL ${model.bgnbd.log_likelihood} vs ${own.logLikelihood}`);
  assert.equal(model.gamma_gamma?.currency, 'USD');

  // the engagement prior: the population's purchases per channel (the import's `web`) and per UTC hour of the week,
  // as shares of this test's own count (one completed order per customer and day, at midnight UTC)
  const hoursOf = (d: number[]) => {
    const out: Record<string, number> = {};
    for (const day of d) {
      const at = new Date(day * DAY);
      const h = String(((at.getUTCDay() + 6) % 7) * 24 + at.getUTCHours());
      out[h] = (out[h] ?? 0) + 1;
    }
    return out;
  };
  const population = hoursOf([...days.values()].flat());
  const orders = Object.values(population).reduce((a, b) => a + b, 0);
  assert.deepEqual([model.engagement?.channels, model.engagement?.events, model.engagement?.prior_strength], [{ web: 1 }, orders, 10]);
  assert.deepEqual(Object.keys(model.engagement!.hours).sort(), Object.keys(population).sort());
  for (const [h, n] of Object.entries(population)) assert.ok(Math.abs(model.engagement!.hours[h]! - n / orders) < 1e-12, `hour ${h}`);

  // a population it cannot fit: refused, version 1 stays current
  const refused = cli(['predict', 'fit', '--as-of', new Date(AS_OF).toISOString(), '--min-customers', '100000']);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /model_fit_failed: BG\/NBD fit: 600 customers, at least 100000 are needed; model version 1 stays current/);

  segmenter = startService({ ...c.childEnv, LOG_LEVEL: 'info' }, 'segmenter'); // info: its "started" line
  const scored = cli(['predict', 'score', '--as-of', new Date(AS_OF).toISOString(), '--json']);
  assert.equal(scored.status, 0, scored.stderr);
  const summary = JSON.parse(scored.stdout) as { scored: number; profiles: number; model_version: number };
  assert.deepEqual([summary.scored, summary.model_version], [CUSTOMERS, 1]);

  // every profile: finite scores, P(alive) as the model says for this test's (x, t_x, T)
  const churn = new Set<string>();
  const valuable = new Set<string>();
  for (const [user, d] of days) {
    const pid = (await c.profiles.owner('user_id', user))!;
    const p = (await c.profiles.read(pid))!.doc as ProfileDoc;
    const v = p.predictions!.v;
    for (const n of Object.values(v)) if (typeof n === 'number') assert.ok(Number.isFinite(n), `${user}: ${JSON.stringify(v)}`);
    assert.equal(p.predictions!.t, AS_OF);
    const expected = probabilityAlive(model.bgnbd.params, rfmOf(d));
    assert.ok(Math.abs(v.p_alive - expected) < 1e-6, `${user}: P(alive) ${v.p_alive} vs ${expected}`);
    // best channel and hour: the fold's counts are this test's, shrunk toward the model's population shares
    assert.deepEqual(p.engagement, { channels: { web: d.length }, hours: hoursOf(d) });
    assert.equal(v.best_channel, 'web');
    assert.equal(v.best_hour_of_week, Number(bestOption(hoursOf(d), model.engagement!.hours, model.engagement!.prior_strength)!.key));
    if (d.length >= 2 && v.p_alive < 0.3) churn.add(pid);
    if ((v.clv_minor ?? 0) >= 20_000) valuable.add(pid);
  }
  assert.ok(churn.size > 10 && valuable.size > 5, `both segments have members: ${churn.size} likely to churn, ${valuable.size} high CLV`);

  await waitUntil('the segmenter', () => segmenter!.started(), 60_000);
  await settle(c);
  const events = membershipEvents(c);
  const entered = (segment: string) => new Set(events.filter((e) => e.segment_id === segment && e.change === 'entered').map((e) => e.profile_id));
  assert.deepEqual([...entered('likely-to-churn')].sort(), [...churn].sort());
  assert.deepEqual([...entered('high-clv')].sort(), [...valuable].sort());
  const fired = events.filter((e) => e.segment_id === 'likely-to-churn' || e.segment_id === 'high-clv');
  assert.ok(fired.every((e) => e.reason === 'rule_matched' && e.trigger_event_id === `predict:v1:${AS_OF}` && e.occurred_at === AS_OF));

  // the changes went out on profile-changes with cause predict, one per scored profile
  const consumed = runCli(['consume', c.env.topics['profile-changes'].topic], { env: c.childEnv });
  assert.equal(consumed.status, 0, consumed.stderr);
  const predicted = consumed.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { cause: string; changed_sections: string[] })
    .filter((x) => x.cause === 'predict');
  assert.equal(predicted.length, CUSTOMERS);
  assert.ok(predicted.every((x) => x.changed_sections.join() === 'predictions'));

  const report = cli(['predict', 'report', '--as-of', new Date(AS_OF).toISOString(), '--holdout-days', '182']);
  assert.equal(report.status, 0, report.stderr);
  assert.match(report.stdout, /model version 1, fitted 1998-07-01T00:00:00.000Z/);
  assert.match(report.stdout, /holdout check: fitted on orders up to 1997-12-31/);
  assert.match(report.stdout, /^7\+ +\d+ +\d+\.\d{3} +\d+\.\d{3}/m);
});
