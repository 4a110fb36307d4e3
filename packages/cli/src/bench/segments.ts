/**
 * `bench segments`, on the real stack with the services as their own processes:
 *   1. latency from an input event produced to the membership event it causes, consumed from
 *      `segment-membership-changed`, through the purchases stitcher and the segmenter, at fixed rates
 *      (default 5k and 10k events/s), with the raw produce → consume latency of the same run as the baseline;
 *   2. the lag of time-driven exits (consumed − occurred_at) with 100k profiles scheduled, their exits spread
 *      over a window (the scheduler, the segmenter and the relay under load).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { generate } from '@profile-stream/generator';
import { eventFragment, normaliseIdentifiers, ProfileStore } from '@profile-stream/profile';
import { loadDefinitions } from '@profile-stream/segments';
import { evaluator, MembershipStore } from '@profile-stream/segmenter';
import type { CliContext } from '../context.ts';
import { Sender } from '../sender.ts';
import { printTable } from '../table.ts';
import { caughtUp, freePort, setup, sleep, startService, teardown, waitForGroup, type Bench } from './harness.ts';
import { sampleLag } from './lag.ts';
import { printCpu, printHops, startProbe, type ProbedService } from './probe.ts';
import { summarize } from './stats.ts';

/** Part 1: produce purchases at `rate` for `seconds`; latency to the membership events they trigger. */
async function latencyAt(
  b: Bench,
  rate: number,
  seconds: number,
  seed: number,
  services: readonly ProbedService[],
): Promise<{
  rate: number;
  sent: number;
  matched: number;
  lat: ReturnType<typeof summarize>;
  raw: ReturnType<typeof summarize>;
  change: ReturnType<typeof summarize>;
}> {
  const topic = b.topics.purchases.topic;
  const sentAt = new Map<string, number>();
  const lat: number[] = [];
  const raw: number[] = [];
  const members = b.kafka.consumer({ groupId: `${b.prefix}lat-${rate}` });
  const rawConsumer = b.kafka.consumer({ groupId: `${b.prefix}raw-${rate}` });
  const changes = b.kafka.consumer({ groupId: `${b.prefix}chg-${rate}` });
  const toChange: number[] = [];
  for (const [c, t] of [
    [members, b.topics['segment-membership-changed'].topic],
    [rawConsumer, topic],
    [changes, b.topics['profile-changes'].topic],
  ] as const) {
    await c.connect();
    await c.subscribe({ topic: t, fromBeginning: false });
  }
  void members.run({
    eachMessage: async ({ message }) => {
      const now = Date.now();
      const d = await b.clients.registry.decode<{ trigger_event_id: string | null }>(message.value!);
      const at = d.value.trigger_event_id === null ? undefined : sentAt.get(d.value.trigger_event_id);
      if (at !== undefined) lat.push(now - at);
    },
  });
  void rawConsumer.run({
    eachMessage: async ({ message }) => {
      const now = Date.now();
      const id = message.headers?.['bench-id']?.toString();
      const at = id === undefined ? undefined : sentAt.get(id);
      if (at !== undefined) raw.push(now - at);
    },
  });
  void changes.run({
    eachMessage: async ({ message }) => {
      const now = Date.now();
      const d = await b.clients.registry.decodeRaw<{ trigger_event_id: string | null }>(message.value!);
      const at = d.value.trigger_event_id === null ? undefined : sentAt.get(d.value.trigger_event_id);
      if (at !== undefined) toChange.push(now - at);
    },
  });
  await waitForGroup(b.kafka, `${b.prefix}chg-${rate}`);
  await waitForGroup(b.kafka, `${b.prefix}lat-${rate}`);
  await waitForGroup(b.kafka, `${b.prefix}raw-${rate}`);
  // Generated and encoded before the clock starts, so the send loop only sends.
  const total = rate * seconds;
  const prepared: { id: string; key: string | null; value: Buffer }[] = [];
  // A generated day has ~0.2 purchases per customer: enough customers for `seconds` at the rate.
  for (const r of generate({ seed, customers: total * 6, days: 1, start: Date.now() - 86_400_000, malformedRate: 0, junkRate: 0, duplicateRate: 0 })) {
    if (r.topic !== 'purchases' || 'malformed' in r) continue;
    const value = r.value as { event_id: string };
    prepared.push({ id: value.event_id, key: r.key, value: await b.clients.registry.encode(topic, value) });
    if (prepared.length === total) break;
  }
  if (prepared.length < total)
    process.stderr.write(`warning: generated ${prepared.length} purchases of ${total}: the load lasts ${(prepared.length / rate).toFixed(1)} s\n`);
  const sender = new Sender(await b.clients.producer(), { batchSize: 50, inFlight: 8 });
  const probe = await startProbe({ services, dataDir: b.dataDir });
  const lag = await sampleLag(b.kafka, [
    { name: 'purchases stitcher', group: `${b.prefix}stitcher`, topic },
    { name: 'segmenter', group: `${b.prefix}segmenter`, topic: b.topics['profile-changes'].topic },
  ]);
  const start = performance.now();
  let i = 0;
  for (const m of prepared) {
    const due = start + (i / rate) * 1000;
    if (due - performance.now() > 1) await sleep(due - performance.now());
    sentAt.set(m.id, Date.now());
    await sender.add(topic, { key: m.key, value: m.value, headers: { 'bench-id': m.id } });
    if (i % 20 === 19) await sender.flush();
    i++;
  }
  await sender.flush();
  const sendMs = performance.now() - start;
  const cpu = probe.cpu();
  lag.loadEnded();
  // Let the pipeline drain (a backlog shows as latency, not as lost samples): the stitcher and the segmenter at the
  // end of their topics, the outbox empty, then a moment for the last events to reach this consumer.
  await caughtUp(b.kafka, `${b.prefix}stitcher`, topic);
  await caughtUp(b.kafka, `${b.prefix}segmenter`, b.topics['profile-changes'].topic);
  const probeRedis = new Redis(b.redisUrl);
  const outbox = new MembershipStore(probeRedis, { prefix: `${b.prefix}ps:`, shards: 16 });
  while ((await outbox.backlog()).outbox > 0) await sleep(200);
  probeRedis.disconnect();
  const hops = await probe.hops();
  const lagRows = await lag.stop(rate);
  let last = -1;
  while (lat.length !== last) {
    last = lat.length;
    await sleep(2000);
  }
  await members.disconnect();
  await rawConsumer.disconnect();
  await changes.disconnect();
  printHops(`purchases at ${rate}/s`, hops);
  printCpu(`CPU while producing purchases at ${rate}/s`, cpu);
  process.stdout.write(`\nconsumer lag while producing purchases at ${rate}/s and draining (committed offsets against the topic's end):\n`);
  printTable(lagRows);
  return { rate: Math.round(i / (sendMs / 1000)), sent: i, matched: lat.length, lat: summarize(lat), raw: summarize(raw), change: summarize(toChange) };
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
        const event = {
          event_id: `bench-${k}`,
          occurred_at: seen,
          anonymous_id: `anon-${k}`,
          user_id: null,
          email: null,
          phone: null,
          type: 'page_view' as const,
          page: null,
          utm: null,
          device: null,
          country: null,
          locale: null,
          product: null,
          search_query: null,
          consent: null,
        };
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

export async function benchSegments(ctx: CliContext, o: { rates: number[]; seconds: number; scheduled: number; window: number }): Promise<void> {
  const b = await setup(ctx, 'seg');
  try {
    const ports = { stitcher: await freePort(), segmenter: await freePort() };
    const stitcher = startService(b, 'purchases', { STITCHER_OPS_PORT: String(ports.stitcher) });
    const segmenter = startService(b, 'segmenter', { SEGMENTER_OPS_PORT: String(ports.segmenter) });
    const services = [
      { name: 'purchases stitcher', opsPort: ports.stitcher, pid: stitcher.pid },
      { name: 'segmenter', opsPort: ports.segmenter, pid: segmenter.pid },
    ];
    await waitForGroup(b.kafka, `${b.prefix}stitcher`);
    await waitForGroup(b.kafka, `${b.prefix}segmenter`);
    const rows = [];
    for (const [i, rate] of o.rates.entries()) {
      process.stderr.write(`purchases at ${rate}/s for ${o.seconds} s through the purchases stitcher and the segmenter...\n`);
      const r = await latencyAt(b, rate, o.seconds, 1000 + i, services);
      rows.push({
        'target/s': rate,
        'achieved/s': r.rate,
        events: r.sent,
        'membership events': r.matched,
        p50_ms: r.lat.p50,
        p95_ms: r.lat.p95,
        p99_ms: r.lat.p99,
        max_ms: r.lat.max,
        '→ profile-changes p50/p99 ms': `${r.change.p50}/${r.change.p99}`,
        'raw p50/p99 ms': `${r.raw.p50}/${r.raw.p99}`,
      });
    }
    process.stdout.write('\ninput event produced → membership event consumed (raw = the same input consumed straight from its topic):\n');
    printTable(rows);
  } finally {
    await teardown(b);
  }
  if (o.scheduled > 0) await scheduledExits(ctx, o.scheduled, o.window);
}
