/**
 * `bench stitch`: N generated events through ONE stitcher process on the real stack, against a raw kafkajs
 * consume of the same topic in the same run; then event → profile latency at a fixed rate.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { resolveTopics } from '@profile-stream/contracts';
import { createKafka, type KafkaClient } from '@profile-stream/consumer-kit';
import { generate } from '@profile-stream/generator';
import { cleanScratch, provision } from '@profile-stream/infra';
import { ProfileStore } from '@profile-stream/profile';
import { loadStitcherConfig, startStitcher } from '@profile-stream/stitcher';
import { openClients } from '../clients.ts';
import type { CliContext } from '../context.ts';
import { Sender } from '../sender.ts';
import { printTable } from '../table.ts';
import { sampleLag } from './lag.ts';
import { printCpu, printHops, startProbe } from './probe.ts';
import { rate, summarize } from './stats.ts';

async function committedTotal(kafka: KafkaClient, groupId: string, topic: string): Promise<bigint> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [o] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (o?.partitions ?? []).reduce((s, p) => s + (BigInt(p.offset) > 0n ? BigInt(p.offset) : 0n), 0n);
  } finally {
    await admin.disconnect();
  }
}

/**
 * The identity slot on its own: every stitcher of a deployment resolves through the one script of the identity
 * index, which on Redis Cluster lives in one slot, so on one node's one core. Chunks of 2,000 identifier sets (user
 * id + e-mail + device: new customers first, then the same sets again, known), no cache, timed per script call.
 */
async function identitySlot(ctx: CliContext, prefix: string): Promise<void> {
  const redis = new Redis(ctx.conn.redis.url);
  try {
    const store = new ProfileStore({ redis, prefix: `${prefix}slot:`, windowMs: 86_400_000 });
    const chunks = Array.from({ length: 25 }, (_, c) =>
      Array.from({ length: 2000 }, (_, i) => ({
        ids: { user_id: `u${c}-${i}`, email: `c${c}-${i}@bench.example`, anonymous_id: `d${c}-${i}` },
        eventId: `e${c}-${i}`,
        occurredAt: Date.now(),
      })),
    );
    const rows = [];
    for (const kind of ['new customers', 'known customers']) {
      const ms: number[] = [];
      for (const chunk of chunks) {
        const t0 = performance.now();
        await store.resolver.resolveMany(chunk);
        ms.push(performance.now() - t0);
      }
      const total = ms.reduce((a, b) => a + b, 0);
      const s = summarize(ms);
      rows.push({
        'identifier sets': kind,
        chunks: chunks.length,
        'sets per chunk': 2000,
        'p50 ms per chunk': s.p50.toFixed(1),
        'p99 ms': s.p99.toFixed(1),
        'sets/s': rate(chunks.length * 2000, total),
      });
    }
    process.stdout.write("\nthe identity index (one slot: on Redis Cluster, one node's core for every stitcher), no cache:\n");
    printTable(rows);
  } finally {
    redis.disconnect();
  }
}

export async function benchStitch(ctx: CliContext, o: { events: number; rate: number }): Promise<void> {
  const prefix = `bench-${randomBytes(3).toString('hex')}.`;
  process.stderr.write(`scratch prefix ${prefix} (its topics, groups and Redis keys are removed at the end)\n`);
  const topics = resolveTopics({ prefix });
  await provision(ctx.conn, topics, ctx.log);
  // the stitcher's group under the prefix too (removed with it), never the deployment's own group
  const env: NodeJS.ProcessEnv = { ...ctx.env, REDIS_PREFIX: `${prefix}ps:`, STITCHER_GROUP_ID: `${prefix}stitcher`, LOG_LEVEL: 'warn' };
  for (const t of Object.values(topics)) env[t.envVar] = t.topic;
  const clients = openClients(ctx, topics);
  const kafka = createKafka({ brokers: ctx.conn.kafka.brokers, clientId: 'bench-stitch', logger: ctx.log });
  const topic = topics.clickstream.topic;
  try {
    process.stderr.write(`generating and producing ${o.events} clickstream events...\n`);
    const sender = new Sender(await clients.producer());
    let n = 0;
    for (const r of generate({ seed: 3, customers: Math.ceil(o.events / 25), days: 60, start: Date.now() - 61 * 86_400_000, malformedRate: 0 })) {
      if (r.topic !== 'clickstream' || 'malformed' in r) continue;
      await sender.add(topic, { key: r.key, value: await clients.registry.encode(topic, r.value) });
      if (++n === o.events) break;
    }
    await sender.flush();

    // Raw baseline: count the same topic with a bare consumer.
    const raw = kafka.consumer({ groupId: `${prefix}raw` });
    await raw.connect();
    await raw.subscribe({ topic, fromBeginning: true });
    let seen = 0;
    let t0 = 0;
    const rawMs = await new Promise<number>((res) => {
      void raw.run({
        eachBatch: async ({ batch }) => {
          if (!t0) t0 = performance.now();
          seen += batch.messages.length;
          if (seen >= n) res(performance.now() - t0);
        },
      });
    });
    await raw.disconnect();

    // One stitcher process (in this process), from offset 0, until everything is committed.
    const cfg = loadStitcherConfig('clickstream', { ...env, STITCHER_OPS_PORT: '0' });
    const stitcher = await startStitcher(cfg);
    const probed = { services: [{ name: 'stitcher', opsPort: stitcher.opsPort, pid: undefined }], dataDir: ctx.conn.dataDir, bench: 'bench + its stitcher' };
    const catchUp = await startProbe(probed);
    // The clock starts at the first batch the stitcher takes (group join excluded) and stops when all is committed.
    let firstAt = 0;
    const kc = stitcher.consumer.consumer;
    kc.on(kc.events.START_BATCH_PROCESS, () => {
      if (firstAt) return;
      firstAt = performance.now();
      catchUp.restartCpu();
    });
    while ((await committedTotal(kafka, cfg.groupId, topic)) < BigInt(n)) await new Promise((r) => setTimeout(r, 50));
    const stitchMs = performance.now() - firstAt;
    const catchUpCpu = catchUp.cpu();
    const catchUpHops = await catchUp.hops();
    printTable([
      { path: 'raw kafkajs consume (count only)', events: n, 'events/s': rate(n, rawMs), ratio: '1.00' },
      {
        path: 'one stitcher: decode → validate → identity → fold (Redis) → profile-changes',
        events: n,
        'events/s': rate(n, stitchMs),
        ratio: (rawMs / stitchMs).toFixed(2),
      },
    ]);
    printHops(`catching up on ${n} events`, catchUpHops);
    printCpu(`CPU while catching up (from its first batch; the stitcher runs in the bench process)`, catchUpCpu);

    // Latency at a fixed rate: produce → profile-changes record (its Kafka timestamp) for the trigger event.
    const live = Math.min(o.rate * 5, 50_000);
    const sentAt = new Map<string, number>();
    const changes = kafka.consumer({ groupId: `${prefix}lat` });
    await changes.connect();
    await changes.subscribe({ topic: topics['profile-changes'].topic, fromBeginning: false });
    const lat: number[] = [];
    void changes.run({
      eachMessage: async ({ message }) => {
        const d = await clients.registry.decode<{ trigger_event_id: string }>(message.value!);
        const at = sentAt.get(d.value.trigger_event_id);
        if (at !== undefined) lat.push(Number(message.timestamp) - at);
      },
    });
    await new Promise((r) => setTimeout(r, 3000));
    const liveSender = new Sender(await clients.producer(), { batchSize: 50, inFlight: 8 });
    const liveProbe = await startProbe(probed);
    const lag = await sampleLag(kafka, [{ name: 'stitcher', group: cfg.groupId, topic }]);
    const start = performance.now();
    let i = 0;
    // A generated day has ~6 clickstream events per customer: enough customers for `live` events (5 s at the rate).
    for (const r of generate({ seed: 99, customers: Math.ceil(live / 4), days: 1, start: Date.now() - 86_400_000, malformedRate: 0 })) {
      if (r.topic !== 'clickstream' || 'malformed' in r) continue;
      const due = start + (i / o.rate) * 1000;
      if (due - performance.now() > 1) await new Promise((res) => setTimeout(res, due - performance.now()));
      sentAt.set(r.value.event_id, Date.now());
      await liveSender.add(topic, { key: r.key, value: await clients.registry.encode(topic, r.value) });
      if (i % 50 === 49) await liveSender.flush();
      if (++i === live) break;
    }
    await liveSender.flush();
    const sendMs = performance.now() - start;
    const liveCpu = liveProbe.cpu();
    lag.loadEnded();
    while ((await committedTotal(kafka, cfg.groupId, topic)) < BigInt(n + i)) await new Promise((r) => setTimeout(r, 50));
    const liveHops = await liveProbe.hops();
    const lagRows = await lag.stop(o.rate);
    await new Promise((r) => setTimeout(r, 3000));
    await changes.disconnect();
    await stitcher.stop();
    const s = summarize(lat);
    process.stdout.write(`\nevent → profile-changes latency at ${o.rate} events/s (${i} events, ${s.n} profile changes sampled):\n`);
    printTable([{ 'achieved/s': rate(i, sendMs), p50_ms: s.p50, p95_ms: s.p95, p99_ms: s.p99, max_ms: s.max }]);
    printHops(`live at ${o.rate} events/s`, liveHops);
    printCpu(`CPU while producing at ${o.rate} events/s (the producer, the latency consumer and the stitcher share the bench process)`, liveCpu);
    process.stdout.write(`\nconsumer lag while producing at ${o.rate} events/s and draining:\n`);
    printTable(lagRows);
    await identitySlot(ctx, prefix);
  } finally {
    await clients.close();
    // everything the run left under its prefix: topics, consumer groups and the Redis keys of its profiles (a run
    // leaves ~220k keys otherwise, which slowed every later SCAN on the stack's Redis)
    await cleanScratch(ctx.conn, ctx.log, [prefix]);
  }
}
