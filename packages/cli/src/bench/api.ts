/**
 * `bench api`: N profiles folded from generated events straight into Redis through ProfileStore (the stitchers' path,
 * without Kafka), an API key made as `apikey create` makes it, the profile API as a service process; then a closed-loop
 * load (api-child.ts, a process of its own) of `GET /v1/profiles/:id` and of `GET /v1/profiles/email:…` for a fixed
 * time, next to the raw baseline of the same run: the same profiles' document GET + meta HGETALL in one pipeline, at
 * the same concurrency. Requests/s, latency percentiles, errors (must be 0), Redis commands per request and CPU per
 * process for each. Then the support page's render time in headless Chromium (api-page.ts), before the load runs.
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApiKeyStore } from '@profile-stream/api/keys';
import { generate } from '@profile-stream/generator';
import { codeOf } from '@profile-stream/contracts';
import { createRedis, type NormaliseOptions, ProfileStore, type StitchItem } from '@profile-stream/profile';
import type { Redis } from 'ioredis';
import type { CliContext } from '../context.ts';
import { printTable } from '../table.ts';
import type { ApiLoadJob, ApiLoadReport } from './api-child.ts';
import { preparePage, stitchItemOf, timeSupportPage, type PageTiming } from './api-page.ts';
import { forkChild, stopGroups } from './children.ts';
import { meterCpu, stackProcesses, type Metered } from './cpu.ts';
import { freePort, setup, sleep, startService, teardown } from './harness.ts';
import { rate, summarize } from './stats.ts';

const CHILD = fileURLToPath(new URL('./api-child.ts', import.meta.url));
const CHUNK = 2000;
const IN_FLIGHT = 8;
const WINDOW = 50_000;

export interface ApiBenchOptions {
  /** Profiles to make. */
  profiles: number;
  connections: number;
  seconds: number;
  /** Opens of the support page timed in Chromium (0: not timed). */
  pageRuns: number;
}

const PAGE_EVENTS = 1000;

interface Population {
  /** Live profiles (no alias), in the order they were made. */
  ids: string[];
  /** Normalised e-mails owned by a profile. */
  emails: string[];
}

/** Folds generated events into the store, a chunk at a time (as a stitcher does), until `n` profiles exist. */
async function populate(store: ProfileStore, redis: Redis, n: number, normalise: NormaliseOptions): Promise<Population> {
  const made = new Set<string>();
  const emails = new Set<string>();
  let window: { key: string; item: StitchItem }[] = [];
  // Several chunks in flight, as several stitchers would run: the store keeps identity right under concurrency.
  const inFlight = new Set<Promise<void>>();
  const stitch = async (items: StitchItem[]) => {
    const p = store.stitch(items).then(async (r) => {
      for (const { fold } of r.folds) made.add(fold.profileId);
      // Completed merges leave the journal, as the stitcher has them leave it once announced (left there, each read
      // of their survivor would complete them again).
      await store.resolver.settle(r.merges);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  };
  // A window of events sorted by Kafka key (stable: a key's events stay in order) before it is cut into chunks: a
  // customer's events share a chunk and one fold, instead of a fold each (the fold script is what Redis spends on).
  const flush = async () => {
    const sorted = window.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((w) => w.item);
    window = [];
    for (let i = 0; i < sorted.length; i += CHUNK) await stitch(sorted.slice(i, i + CHUNK));
  };
  const t0 = performance.now();
  // Two days of a population: about one profile per customer (a longer span adds events, few profiles).
  for (const r of generate({ seed: 13, customers: Math.ceil(n * 1.2), days: 2, start: Date.now() - 3 * 86_400_000, malformedRate: 0, duplicateRate: 0 })) {
    if ('malformed' in r) continue;
    const item = stitchItemOf(r, normalise);
    if (!item) continue;
    window.push({ key: r.key ?? '', item });
    if (item.ids.email !== undefined && emails.size < n) emails.add(item.ids.email);
    if (window.length === WINDOW) await flush();
    if (made.size >= n) break;
  }
  if (window.length) await flush();
  await Promise.all(inFlight);
  // Merges leave aliases behind: only live profiles are asked for (and read raw), so both sides read a document.
  const candidates = [...made];
  const ids: string[] = [];
  for (let i = 0; i < candidates.length; i += 5000) {
    const part = candidates.slice(i, i + 5000);
    const pipe = redis.pipeline();
    for (const id of part) pipe.exists(store.keys.profile(id).alias);
    const res = (await pipe.exec()) ?? [];
    part.forEach((id, j) => {
      if (res[j]?.[1] === 0) ids.push(id);
    });
  }
  process.stderr.write(`${ids.length} live profiles (${emails.size} e-mails) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return { ids, emails: [...emails] };
}

/** Polls the API's /health until it answers 200; fails when the service exits or after 60 s. */
async function waitForApi(base: string, service: { exitCode: number | null; signalCode: string | null }): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (service.exitCode !== null || service.signalCode !== null) throw new Error('the profile API exited before it answered; its log is above');
    const ok = await fetch(`${base}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(200);
  }
  throw new Error(`the profile API did not answer ${base}/health within 60 s`);
}

async function commandsProcessed(redis: Redis): Promise<number> {
  return Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))?.[1] ?? Number.NaN);
}

interface Phase {
  path: string;
  job: ApiLoadJob;
}

async function runPhase(redis: Redis, metered: readonly Metered[], p: Phase) {
  const child = forkChild<ApiLoadReport>({ path: CHILD, name: 'load generator', label: 'bench', job: p.job });
  const commands0 = await commandsProcessed(redis);
  const cpu = meterCpu(metered);
  const r = await child.report('done', (p.job.seconds + 120) * 1000);
  const cpuRows = cpu.read();
  const commands = (await commandsProcessed(redis)) - commands0 - 2; // less this bench's own two INFO calls
  const lat = summarize([...r.latencies]);
  const ms = (x: number) => x.toFixed(2);
  if (r.errors > 0) process.stderr.write(`${p.path}: ${r.errors} errors, the first: \n  ${r.firstErrors.join('\n  ')}\n`);
  return {
    row: {
      path: p.path,
      connections: p.job.concurrency,
      requests: lat.n,
      'req/s': rate(lat.n, r.wallMs),
      p50_ms: ms(lat.p50),
      p95_ms: ms(lat.p95),
      p99_ms: ms(lat.p99),
      max_ms: ms(lat.max),
      errors: r.errors,
      'redis cmds/req': (commands / lat.n).toFixed(1),
    },
    cpu: [
      ...cpuRows.map((c) => ({ path: p.path, ...c })),
      { path: p.path, process: 'load generator (its own count)', 'cpu s': (r.cpuMs / 1000).toFixed(1), '% of a core': ((100 * r.cpuMs) / r.wallMs).toFixed(0) },
    ],
    errors: r.errors,
  };
}

export async function benchApi(ctx: CliContext, o: ApiBenchOptions): Promise<void> {
  // The rate limit stays on (its counter is part of every request's cost), set above what the run can reach.
  const b = await setup(ctx, 'api', { PROFILE_API_RATE_LIMIT: '1000000' });
  const prefix = `${b.prefix}ps:`;
  const redis = createRedis(b.redisUrl);
  let pageDir: string | undefined;
  let pageTiming: PageTiming | { skipped: string } | undefined;
  try {
    const store = new ProfileStore({ redis, prefix, windowMs: 86_400_000 });
    process.stderr.write(`folding generated events into ${o.profiles} profiles...\n`);
    const normalise = { defaultRegion: ctx.defaultRegion, blocklist: new Set(ctx.junkIds) };
    const pop = await populate(store, redis, o.profiles, normalise);
    const key = await new ApiKeyStore({ redis, prefix }).create({ scopes: ['read'], name: 'bench api' });
    const page = o.pageRuns > 0 ? await preparePage(b, store, normalise, PAGE_EVENTS) : undefined;
    if (page) pageDir = page.dataDir;

    const port = await freePort();
    const api = startService(b, 'profile-api', { PROFILE_API_PORT: String(port), PROFILE_API_HOST: '127.0.0.1', ...page?.env });
    const base = `http://127.0.0.1:${port}`;
    await waitForApi(base, api);
    if (page) {
      process.stderr.write(`the support page in headless Chromium: ${o.pageRuns} opens of a profile with ${PAGE_EVENTS} events...\n`);
      pageTiming = await timeSupportPage({ base, key: key.key, profileId: page.profileId, runs: o.pageRuns, log: (m) => process.stderr.write(`${m}\n`) }).catch(
        (err: unknown) => {
          // No browser (and none installable here) leaves the API's figures standing: the page's are reported as missing.
          if (codeOf(err) !== 'tool_missing') throw err;
          return { skipped: (err as Error).message };
        },
      );
      await stopGroups([page.warehouse], 60_000); // the load runs below measure the API and Redis alone
    }
    const metered: Metered[] = [{ name: 'profile-api', pid: api.pid }, ...stackProcesses(b.dataDir).filter((m) => m.name === 'redis')];

    const common = { concurrency: o.connections, seconds: o.seconds };
    const phases: Phase[] = [
      {
        path: 'raw Redis: GET doc + HGETALL meta, pipelined',
        job: { target: 'redis', url: b.redisUrl, keys: pop.ids.map((id) => [store.keys.profile(id).doc, store.keys.profile(id).meta]), ...common },
      },
      { path: 'GET /v1/profiles/:id', job: { target: 'http', base, token: key.key, paths: pop.ids.map((id) => `/v1/profiles/${id}`), ...common } },
      {
        path: 'GET /v1/profiles/email:…',
        job: { target: 'http', base, token: key.key, paths: pop.emails.map((e) => `/v1/profiles/${encodeURIComponent(`email:${e}`)}`), ...common },
      },
    ];
    const results = [];
    for (const p of phases) {
      process.stderr.write(`${p.path}: ${o.connections} connections for ${o.seconds} s...\n`);
      results.push(await runPhase(redis, metered, p));
    }
    const rawRate = results[0]!.row['req/s'];
    process.stdout.write(`\n${pop.ids.length} profiles, closed loop, ${o.connections} connections, ${o.seconds} s each (ratio: req/s against the raw read):\n`);
    printTable(results.map((r) => ({ ...r.row, ratio: (r.row['req/s'] / rawRate).toFixed(2) })));
    process.stdout.write('\nCPU per process during each run:\n');
    printTable(results.flatMap((r) => r.cpu));
    if (pageTiming && 'row' in pageTiming) {
      process.stdout.write(`\nThe support page in headless Chromium, ${o.pageRuns} opens after 3 warm-up ones (open → every panel filled):\n`);
      printTable([pageTiming.row]);
      process.stdout.write('its data calls, in parallel (in the page: request to last byte):\n');
      printTable(pageTiming.calls);
    } else if (pageTiming) process.stdout.write(`\nThe support page's render time: not measured (${pageTiming.skipped})\n`);
    if (results.some((r) => r.errors > 0)) process.exitCode = 1;
  } finally {
    redis.disconnect();
    await teardown(b);
    if (pageDir) rmSync(pageDir, { recursive: true, force: true });
  }
}
