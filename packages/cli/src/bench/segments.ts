/**
 * `bench segments`, on the real stack with the services as their own processes:
 *   1. latency from an input event produced to the membership event it causes, consumed from
 *      `segment-membership-changed`, through the purchases stitcher and the segmenter, at fixed rates
 *      (default 5k and 10k events/s), with the raw produce → consume latency of the same run as the baseline; the
 *      producer and the observer (of membership events, profile changes and the raw input) run as child processes of
 *      their own (segments-child.ts), off the bench's event loop; the bench joins their send and arrival times by event id
 *      and meters each one's CPU;
 *   2. the lag of time-driven exits (consumed − occurred_at) with 100k profiles scheduled, their exits spread
 *      over a window (the scheduler, the segmenter and the relay under load).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { clickEvent } from '@profile-stream/contracts/testing';
import { generate } from '@profile-stream/generator';
import { eventFragment, normaliseIdentifiers, ProfileStore } from '@profile-stream/profile';
import { loadDefinitions } from '@profile-stream/segments';
import { evaluator, MembershipStore } from '@profile-stream/segmenter';
import type { CliContext } from '../context.ts';
import { printTable } from '../table.ts';
import type { ChildProcess } from 'node:child_process';
import { forkChild, stopGroups } from './children.ts';
import { caughtUp, freePort, setup, sleep, startScript, startService, teardown, waitForGroup, type Bench } from './harness.ts';
import { sampleLag } from './lag.ts';
import { checkLoadSize, loadCustomers } from './load-size.ts';
import { printCpu, printHops, startProbe, type ProbedService } from './probe.ts';
import { bySegment, joinArrivals } from './arrivals.ts';
import type { InputRecord, SegmentsJob, SegmentsReport } from './segments-child.ts';
import { summarize } from './stats.ts';

const CHILD = fileURLToPath(new URL('./segments-child.ts', import.meta.url));
const FLOOR = fileURLToPath(new URL('./floor-service.ts', import.meta.url));

/**
 * Part 1: produce purchases at `rate` for `seconds`; latency to the membership events they trigger. The producer and
 * the observer (of membership events, profile changes and the raw input) are child processes (segments-child.ts).
 */
async function latencyAt(
  b: Bench,
  conn: { brokers: string[]; registry: string },
  rate: number,
  seconds: number,
  seed: number,
  services: readonly ProbedService[],
  companyShare?: number,
  loyalty = false,
  print = true,
): Promise<{
  rate: number;
  sent: number;
  matched: number;
  rawConsumed: number;
  lat: ReturnType<typeof summarize>;
  raw: ReturnType<typeof summarize>;
  change: ReturnType<typeof summarize>;
}> {
  const topic = b.topics.purchases.topic;
  // One observer process for the three topics (one consumer: one fetch wakes it for all of them).
  const groupId = `${b.prefix}lat-${rate}`;
  const observer = forkChild<SegmentsReport>({
    path: CHILD,
    name: 'observer',
    label: 'bench',
    job: {
      role: 'observer',
      brokers: conn.brokers,
      registry: conn.registry,
      prefix: b.prefix,
      groupId,
      topics: [
        { topic: b.topics['segment-membership-changed'].topic, observed: 'membership' },
        { topic, observed: 'raw' },
        { topic: b.topics['profile-changes'].topic, observed: 'changes' },
      ],
    } satisfies SegmentsJob,
  });
  await observer.report('ready', 90_000);
  await waitForGroup(b.kafka, groupId);
  // Generated and encoded before the clock starts, so the producer only sends.
  const total = rate * seconds;
  const prepared: InputRecord[] = [];
  // Enough customers for `seconds` at the rate (load-size.ts).
  // companyShare: B2B contacts' events carry an account, which costs the stitcher its accounts hop (issue 15's budget)
  const gen = { seed, customers: loadCustomers(total), days: 1, start: Date.now() - 86_400_000, malformedRate: 0, junkRate: 0, duplicateRate: 0 };
  // loyalty: the generated day's loyalty events too (members' earns and redemptions among their purchases), on their
  // own topic as they come, part of the `rate` but not timed (issue 15's budget: the same input rate, with loyalty)
  for (const r of generate({ ...gen, ...(companyShare === undefined ? {} : { companyShare }), ...(loyalty ? { loyaltyShare: 0.3 } : {}) })) {
    if ('malformed' in r) continue;
    const value = r.value as { event_id: string };
    if (loyalty && r.topic === 'loyalty') {
      const t = b.topics.loyalty.topic;
      prepared.push({ id: value.event_id, key: r.key, value: await b.clients.registry.encode(t, value), topic: t });
    } else if (r.topic === 'purchases') prepared.push({ id: value.event_id, key: r.key, value: await b.clients.registry.encode(topic, value) });
    if (prepared.length === total) break;
  }
  if (prepared.length < total)
    process.stderr.write(`warning: generated ${prepared.length} input events of ${total}: the load lasts ${(prepared.length / rate).toFixed(1)} s\n`);
  const producer = forkChild<SegmentsReport>({
    path: CHILD,
    name: 'producer',
    label: 'bench',
    job: { role: 'producer', brokers: conn.brokers, topic, rate, records: prepared } satisfies SegmentsJob,
  });
  await producer.report('ready', 90_000);
  const probe = await startProbe({
    services,
    dataDir: b.dataDir,
    children: [
      { name: 'bench producer', pid: producer.pid },
      { name: 'bench observer', pid: observer.pid }, // of membership events, the raw input and profile-changes
    ],
  });
  const lag = await sampleLag(b.kafka, [
    { name: 'purchases stitcher', group: `${b.prefix}stitcher`, topic },
    { name: 'segmenter', group: `${b.prefix}segmenter`, topic: b.topics['profile-changes'].topic },
  ]);
  producer.send({ type: 'go' });
  const produced = await producer.report('produced', seconds * 1000 + 120_000);
  const cpu = probe.cpu();
  producer.send({ type: 'finish' });
  lag.loadEnded();
  // Let the pipeline drain (a backlog shows as latency, not as lost samples): the stitcher and the segmenter at the
  // end of their topics, the outbox empty, then until the membership observer has seen nothing new for 2 s.
  await caughtUp(b.kafka, `${b.prefix}stitcher`, topic);
  await caughtUp(b.kafka, `${b.prefix}segmenter`, b.topics['profile-changes'].topic);
  const probeRedis = new Redis(b.redisUrl);
  const outbox = new MembershipStore(probeRedis, { prefix: `${b.prefix}ps:`, shards: 16 });
  const drainBy = Date.now() + 300_000;
  try {
    while ((await outbox.backlog()).outbox > 0) {
      if (Date.now() > drainBy)
        throw new Error("bench segments: the segmenter's outbox did not drain in 300 s (its relay is stuck; the segmenter's log is above)");
      await sleep(200);
    }
  } finally {
    probeRedis.disconnect();
  }
  const hops = await probe.hops();
  const lagRows = await lag.stop(rate);
  const seen = () => observer.latest('progress')?.count ?? 0;
  let last = -1;
  while (seen() !== last) {
    last = seen();
    await sleep(2000);
  }
  const arriving = observer.report('arrivals', 120_000);
  observer.send({ type: 'finish' });
  const { of } = await arriving;
  const sent = new Map<string, number>(produced.ids.map((id, i) => [id, produced.sentAt[i]!]));
  const lat = joinArrivals(sent, of.membership);
  const rawJoined = joinArrivals(sent, of.raw);
  if (print) {
    printHops(`purchases at ${rate}/s`, hops);
    printCpu(`CPU while producing purchases at ${rate}/s`, cpu);
    process.stdout.write(`\nconsumer lag while producing purchases at ${rate}/s and draining (committed offsets against the topic's end):\n`);
    printTable(lagRows);
    process.stdout.write(`\ninput → membership at ${rate}/s by segment and change:\n`);
    printTable(bySegment(sent, of.membership, of.changes));
  }
  return {
    rate: produced.achievedRate,
    sent: sent.size,
    matched: lat.latencies.length,
    rawConsumed: rawJoined.ids.size,
    lat: summarize(lat.latencies),
    raw: summarize(rawJoined.latencies),
    change: summarize(joinArrivals(sent, of.changes).latencies),
  };
}

/** Part 2: `profiles` profiles in a `within_last` segment whose exits fall uniformly over `windowS` seconds. */
async function scheduledExits(ctx: CliContext, profiles: number, windowS: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-segments-'));
  const lead = 20_000;
  const span = windowS * 1000;
  // Everyone is seen in [t0 - W, t0): with a window of W + lead, exits fall in [t0 + lead, t0 + lead + W).
  writeFileSync(
    join(dir, 'seen-recently.yaml'),
    [
      'id: seen-recently',
      'version: 1',
      'name: Seen recently',
      'description: Benchmark segment.',
      'condition:',
      '  field: activity.last_seen_at',
      `  within_last: ${Math.round((span + lead) / 1000)}s`,
      '',
    ].join('\n'),
  );
  const b = await setup(ctx, 'exits', { SEGMENTS_DIR: dir });
  const redis = new Redis(ctx.conn.redis.url);
  try {
    const defs = await loadDefinitions(dir);
    const store = new ProfileStore({ redis, prefix: `${b.prefix}ps:`, windowMs: 90 * 86_400_000 });
    const memberships = new MembershipStore(redis, { prefix: `${b.prefix}ps:`, shards: 16 });
    // The profiles are built by the services' own steps without Kafka in between: the stitcher's (identity and fold
    // of a chunk: ProfileStore.stitch) and the segmenter's evaluation of each profile it folded.
    const evaluate = evaluator({ defs, memberships, now: Date.now });
    // Time to build the profiles first (~3,000/s on this 2-core machine: identity, fold and evaluation of each).
    const t0 = Date.now() + 5_000 + Math.ceil(profiles / 10_000) * 3_000;
    process.stderr.write(
      `building ${profiles} profiles in Redis, their exits due between +${Math.round((t0 + lead - Date.now()) / 1000)} s and +${Math.round((t0 + lead + span - Date.now()) / 1000)} s...\n`,
    );
    const build = async (from: number, to: number) => {
      const items = Array.from({ length: to - from }, (_, j) => {
        const k = from + j;
        const seen = t0 - span + Math.floor((k / profiles) * span);
        const event = clickEvent({ event_id: `bench-${k}`, occurred_at: seen, anonymous_id: `anon-${k}` });
        const normalised = normaliseIdentifiers(event, { defaultRegion: 'GB', blocklist: new Set() });
        const { dropped: _dropped, ...ids } = normalised;
        return { ids, eventId: event.event_id, occurredAt: seen, fragment: () => eventFragment('clickstream', event as never, normalised) };
      });
      const chunk = await store.stitch(items);
      await Promise.all(
        chunk.folds.map(({ fold, items: folded }) => {
          const last = folded.map((i) => items[i]!).reduce((a, x) => (x.occurredAt > a.occurredAt ? x : a)); // the change's trigger, as the stitcher picks it
          return evaluate.profile(fold, { kind: 'event', at: last.occurredAt }, last.eventId);
        }),
      );
    };
    const buildStart = Date.now();
    for (let k = 0; k < profiles; k += 500) await build(k, Math.min(k + 500, profiles));
    const buildS = ((Date.now() - buildStart) / 1000).toFixed(1);
    const backlog = await memberships.backlog();
    // The entries they wrote (entered) count as relayed: not the point here, only the exits are measured.
    for (let s = 0; s < memberships.shards; s++) {
      const ids = (await memberships.outbox(s)).map((e) => e.id);
      if (ids.length > 0) await memberships.relayed(s, ids[ids.length - 1]!, ids);
    }
    process.stderr.write(`${backlog.scheduled} profiles scheduled (built in ${buildS} s); starting the segmenter...\n`);
    if (Date.now() > t0 + lead) process.stderr.write('warning: the first exits fell due before the segmenter started: their lag includes the build\n');

    const lag: number[] = [];
    const consumer = b.kafka.consumer({ groupId: `${b.prefix}exits` });
    await consumer.connect();
    await consumer.subscribe({ topic: b.topics['segment-membership-changed'].topic, fromBeginning: true });
    void consumer.run({
      eachMessage: async ({ message }) => {
        const now = Date.now();
        const d = await b.clients.registry.decode<{ change: string; occurred_at: number }>(message.value!);
        if (d.value.change === 'exited') lag.push(now - d.value.occurred_at);
      },
    });
    startService(b, 'segmenter');
    const until = t0 + lead + span + 5_000;
    while (Date.now() < until || lag.length < profiles) {
      if (Date.now() > until + 60_000) break;
      await sleep(500);
    }
    await consumer.disconnect();
    const s = summarize(lag);
    process.stdout.write(
      `\ntime-driven exits with ${backlog.scheduled} profiles scheduled, due over ${windowS} s (${Math.round(profiles / windowS)}/s): consumed − occurred_at\n`,
    );
    printTable([{ exits: s.n, of: profiles, p50_ms: s.p50, p95_ms: s.p95, p99_ms: s.p99, max_ms: s.max }]);
  } finally {
    redis.disconnect();
    await teardown(b);
  }
}

/** One latency run's row of the result table. */
function latencyRow(rate: number, r: Awaited<ReturnType<typeof latencyAt>>) {
  return {
    'target/s': rate,
    'achieved/s': r.rate,
    events: r.sent,
    'input consumed': r.rawConsumed,
    'membership events': r.matched,
    p50_ms: r.lat.p50,
    p95_ms: r.lat.p95,
    p99_ms: r.lat.p99,
    max_ms: r.lat.max,
    '→ profile-changes p50/p99 ms': `${r.change.p50}/${r.change.p99}`,
    'raw p50/p99 ms': `${r.raw.p50}/${r.raw.p99}`,
  };
}

/**
 * `issue15`: the cost of loyalty and B2B accounts in one run. Per rate, alternately (base, with, base, with): base =
 * purchases of customers with no account and no loyalty stitcher; with = the same load with `companyShare` of the
 * customers a company's contacts (their events carry an account) plus the generated loyalty members' events on the
 * loyalty topic, with the loyalty stitcher running (started for the run and warmed up with that load first, as the
 * bench warms the other services), or, with `loyaltyOnPurchases`, the purchases stitcher consuming the loyalty topic
 * too in every run (idle in the base runs). Prints each run and the ratio of the means (with / base).
 */
export async function benchSegments(
  ctx: CliContext,
  o: {
    rates: number[];
    seconds: number;
    scheduled: number;
    window: number;
    warmup?: number;
    companyShare?: number;
    issue15?: boolean;
    floor?: boolean;
    loyaltyFetchWaitMs?: number;
    /** --issue15: loyalty on the purchases stitcher (STITCHER_ALSO_TOPICS) in every run, not a stitcher of its own. */
    loyaltyOnPurchases?: boolean;
  },
): Promise<void> {
  checkLoadSize(o.rates, o.seconds, o.warmup ?? 5);
  const b = await setup(ctx, 'seg');
  try {
    const ports = { stitcher: await freePort(), segmenter: await freePort() };
    // --floor: stand-ins of the same shape with no Redis and no logic (floor-service.ts), under the same names
    const stitcher = o.floor
      ? startScript(b, 'purchases', FLOOR, { FLOOR_ROLE: 'stitch', STITCHER_OPS_PORT: String(ports.stitcher) })
      : startService(b, 'purchases', { STITCHER_OPS_PORT: String(ports.stitcher), ...(o.loyaltyOnPurchases ? { STITCHER_ALSO_TOPICS: 'loyalty' } : {}) });
    const segmenter = o.floor
      ? startScript(b, 'segmenter', FLOOR, { FLOOR_ROLE: 'segment', SEGMENTER_OPS_PORT: String(ports.segmenter) })
      : startService(b, 'segmenter', { SEGMENTER_OPS_PORT: String(ports.segmenter) });
    const services = [
      { name: o.floor ? 'floor stitcher' : 'purchases stitcher', opsPort: ports.stitcher, pid: stitcher.pid },
      { name: o.floor ? 'floor segmenter' : 'segmenter', opsPort: ports.segmenter, pid: segmenter.pid },
    ];
    await waitForGroup(b.kafka, `${b.prefix}stitcher`);
    await waitForGroup(b.kafka, `${b.prefix}segmenter`);
    const conn = { brokers: ctx.conn.kafka.brokers, registry: ctx.conn.registry.url };
    const rows = [];
    let seed = 1000;
    // Services just started run their first seconds cold (V8 compiling the hot paths, first fetches and group state):
    // measured, that made the first rate's p99 2-4x a warm run's at 300/s. So a short load first, not measured.
    const warmup = o.warmup ?? 5;
    if (warmup > 0 && o.rates.length > 0) {
      process.stderr.write(`warming up: purchases at ${o.rates[0]}/s for ${warmup} s (not measured)...\n`);
      // (with loyalty on the purchases stitcher, loyalty events too: its loyalty paths are warm for the 'with' runs)
      await latencyAt(b, conn, o.rates[0]!, warmup, 999, services, o.companyShare, Boolean(o.issue15 && o.loyaltyOnPurchases), false);
    }
    for (const rate of o.rates) {
      if (!o.issue15) {
        process.stderr.write(`purchases at ${rate}/s for ${o.seconds} s through the purchases stitcher and the segmenter...\n`);
        rows.push(latencyRow(rate, await latencyAt(b, conn, rate, o.seconds, seed++, services, o.companyShare)));
        continue;
      }
      const share = o.companyShare ?? 0.1;
      const runs: { variant: 'base' | 'with'; p50: number; p99: number }[] = [];
      for (const variant of ['base', 'with', 'base', 'with'] as const) {
        process.stderr.write(
          `purchases at ${rate}/s for ${o.seconds} s, ${variant === 'base' ? 'no accounts, no loyalty' : `company share ${share}, loyalty events and ${o.loyaltyOnPurchases ? 'the purchases stitcher consuming them' : 'stitcher'}`}...\n`,
        );
        let loyaltyStitcher: ChildProcess | undefined;
        const probed = [...services];
        if (variant === 'with' && !o.loyaltyOnPurchases) {
          const port = await freePort();
          // --loyalty-fetch-wait: the loyalty stitcher batches its fetches (fewer cycles, less CPU; its own events later)
          const batching =
            o.loyaltyFetchWaitMs === undefined ? {} : { STITCHER_FETCH_MIN_BYTES: String(1 << 20), STITCHER_FETCH_MAX_WAIT_MS: String(o.loyaltyFetchWaitMs) };
          loyaltyStitcher = startService(b, 'loyalty', { STITCHER_OPS_PORT: String(port), STITCHER_GROUP_ID: `${b.prefix}loyalty-stitcher`, ...batching });
          probed.push({ name: 'loyalty stitcher', opsPort: port, pid: loyaltyStitcher.pid });
          await waitForGroup(b.kafka, `${b.prefix}loyalty-stitcher`);
          // It starts cold for each run, where the other services are warm (the bench's warm-up): its first seconds
          // compiling its hot paths under load (measured: 68 % of a core in the first second, ~20 % after) are not
          // what running it costs. So the same warm-up as theirs, with its load, not measured.
          if (warmup > 0) await latencyAt(b, conn, rate, warmup, 998, probed, share, true, false);
        }
        try {
          const r = await latencyAt(b, conn, rate, o.seconds, seed++, probed, variant === 'base' ? 0 : share, variant === 'with');
          rows.push({ variant, ...latencyRow(rate, r) });
          runs.push({ variant, p50: r.lat.p50, p99: r.lat.p99 });
        } finally {
          if (loyaltyStitcher) await stopGroups([loyaltyStitcher], 30_000);
        }
      }
      const mean = (v: 'base' | 'with', k: 'p50' | 'p99') => runs.filter((x) => x.variant === v).reduce((a, x) => a + x[k], 0) / 2;
      process.stdout.write(
        `\nissue 15 at ${rate}/s: with loyalty and accounts (company share ${share}) / without, means of two runs each: ` +
          `p50 ${(mean('with', 'p50') / mean('base', 'p50')).toFixed(2)}, p99 ${(mean('with', 'p99') / mean('base', 'p99')).toFixed(2)}\n`,
      );
    }
    process.stdout.write('\ninput event produced → membership event consumed (raw = the same input consumed straight from its topic):\n');
    printTable(rows);
  } finally {
    await teardown(b);
  }
  if (o.scheduled > 0) await scheduledExits(ctx, o.scheduled, o.window);
}
