/**
 * `bench kafka`: the CLI's produce and consume paths against raw kafkajs on the same broker, same run.
 *  - produce: JSON → validate → Avro (registry) → send, vs sending pre-encoded bytes;
 *  - consume: consumer-kit (decode through the registry, commit after each chunk), vs a bare eachBatch count;
 *  - latency: events produced at a fixed rate, produce → handled, p50/p95/p99, kit vs raw.
 */
import { randomBytes } from 'node:crypto';
import { resolveTopics, type TopicTable } from '@profile-stream/contracts';
import {
  createKafka,
  createKitMetrics,
  decodeMessage,
  deleteTopics,
  ensureTopics,
  ok,
  perKey,
  startConsumer,
  type KafkaClient,
} from '@profile-stream/consumer-kit';
import { generate } from '@profile-stream/generator';
import { provision } from '@profile-stream/infra';
import { openClients } from '../clients.ts';
import type { CliContext } from '../context.ts';
import { Sender } from '../sender.ts';
import { printTable } from '../table.ts';
import { rate, summarize } from './stats.ts';

export function clickEvents(n: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const r of generate({
    seed: 11,
    customers: Math.ceil(n / 25),
    days: 60,
    start: Date.UTC(2026, 0, 1),
    malformedRate: 0,
    junkRate: 0.01,
    duplicateRate: 0,
  })) {
    if (r.topic === 'clickstream' && !('malformed' in r)) out.push(r.value as unknown as Record<string, unknown>);
    if (out.length === n) break;
  }
  return out;
}

async function rawCount(
  kafka: KafkaClient,
  topic: string,
  n: number,
  onMessage?: (ts: number) => void,
): Promise<{ ms: number; stop: () => Promise<void>; done: Promise<number> }> {
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomBytes(4).toString('hex')}`, maxBytesPerPartition: 4 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let count = 0;
  let t0 = 0;
  let resolveDone!: (ms: number) => void;
  const done = new Promise<number>((r) => {
    resolveDone = r;
  });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      if (t0 === 0) t0 = performance.now();
      for (const m of batch.messages) onMessage?.(Number(m.timestamp));
      count += batch.messages.length;
      if (count >= n) resolveDone(performance.now() - t0);
    },
  });
  return { ms: 0, stop: () => consumer.disconnect(), done };
}

export async function benchKafka(ctx: CliContext, o: { events: number; rate: number }): Promise<void> {
  const prefix = `bench-${randomBytes(3).toString('hex')}.`;
  const topics: TopicTable = resolveTopics({ prefix });
  await provision(ctx.conn, topics, ctx.log);
  const clients = openClients(ctx, topics);
  const kafka = createKafka({ brokers: ctx.conn.kafka.brokers, clientId: 'bench', logger: ctx.log });
  const rawTopic = `${prefix}raw`;
  const topic = topics.clickstream.topic;
  const rows: Record<string, unknown>[] = [];
  try {
    process.stderr.write(`generating ${o.events} clickstream events...\n`);
    const events = clickEvents(o.events);
    const producer = await clients.producer();

    // Produce: raw (bytes already encoded) vs the CLI path (validate + encode + send).
    const encoded = await Promise.all(events.map((e) => clients.registry.encode(topic, e)));
    await provisionRaw(ctx, kafka, rawTopic);
    let t = performance.now();
    const raw = new Sender(producer);
    for (const v of encoded) await raw.add(rawTopic, { key: null, value: v });
    await raw.flush();
    const rawProduceMs = performance.now() - t;
    t = performance.now();
    const cli = new Sender(producer);
    for (const e of events) await cli.add(topic, { key: (e.user_id ?? e.anonymous_id) as string, value: await clients.registry.encode(topic, e) });
    await cli.flush();
    const cliProduceMs = performance.now() - t;
    rows.push({ step: 'produce', path: 'raw kafkajs (pre-encoded bytes)', events: o.events, 'events/s': rate(o.events, rawProduceMs), ratio: '1.00' });
    rows.push({
      step: 'produce',
      path: 'CLI: JSON → validate → Avro → send',
      events: o.events,
      'events/s': rate(o.events, cliProduceMs),
      ratio: (rawProduceMs / cliProduceMs).toFixed(2),
    });

    // Consume: raw eachBatch count vs consumer-kit with decode + commit per chunk.
    const r = await rawCount(kafka, topic, o.events);
    const rawConsumeMs = await r.done;
    await r.stop();
    const metrics = createKitMetrics('bench');
    let handled = 0;
    let kitT0 = 0;
    let resolveKit!: (ms: number) => void;
    const kitDone = new Promise<number>((res) => {
      resolveKit = res;
    });
    const kit = await startConsumer({
      kafka,
      producer,
      metrics,
      logger: ctx.log,
      service: 'bench',
      groupId: `${prefix}kit`,
      topics: [topic],
      handler: perKey(async (m) => {
        if (kitT0 === 0) kitT0 = performance.now();
        await decodeMessage(clients.registry, m);
        if (++handled === o.events) resolveKit(performance.now() - kitT0);
        return ok();
      }),
    });
    const kitConsumeMs = await kitDone;
    await kit.stop();
    rows.push({ step: 'consume', path: 'raw kafkajs eachBatch (count only)', events: o.events, 'events/s': rate(o.events, rawConsumeMs), ratio: '1.00' });
    rows.push({
      step: 'consume',
      path: 'consumer-kit: decode + commit per chunk',
      events: o.events,
      'events/s': rate(o.events, kitConsumeMs),
      ratio: (rawConsumeMs / kitConsumeMs).toFixed(2),
    });
    printTable(rows);

    // Latency at a fixed rate: produce → handled, both consumers reading the same live topic.
    const live = `${prefix}live`;
    await provisionRaw(ctx, kafka, live);
    const n = Math.min(o.events, o.rate * 4);
    const rawLat: number[] = [];
    const kitLat: number[] = [];
    const rawLive = await rawCount(kafka, live, n, (ts) => rawLat.push(Date.now() - ts));
    let kitSeen = 0;
    let resolveLive!: () => void;
    const liveDone = new Promise<void>((res) => {
      resolveLive = res;
    });
    const kitLive = await startConsumer({
      kafka,
      producer,
      metrics: createKitMetrics('bench-live'),
      logger: ctx.log,
      service: 'bench',
      groupId: `${prefix}kit-live`,
      topics: [live],
      handler: perKey(async (m) => {
        await decodeMessage(clients.registry, { ...m, topic });
        kitLat.push(Date.now() - Number(m.timestamp));
        if (++kitSeen === n) resolveLive();
        return ok();
      }),
    });
    await new Promise((res) => setTimeout(res, 3000)); // both groups joined
    const sender = new Sender(producer, { batchSize: 20, inFlight: 8 });
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const due = start + (i / o.rate) * 1000;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((res) => setTimeout(res, wait));
      await sender.add(live, { key: String(i % 64), value: encoded[i % encoded.length]! });
      if (i % 20 === 19) await sender.flush();
    }
    await sender.flush();
    await Promise.all([rawLive.done, liveDone]);
    await rawLive.stop();
    await kitLive.stop();
    const fmt = (s: ReturnType<typeof summarize>) => ({ p50_ms: s.p50, p95_ms: s.p95, p99_ms: s.p99, max_ms: s.max, samples: s.n });
    process.stdout.write(`\nlatency at ${o.rate} events/s (${n} events, produce → handled, batches of 20):\n`);
    printTable([
      { path: 'raw kafkajs eachBatch', ...fmt(summarize(rawLat)) },
      { path: 'consumer-kit decode + commit', ...fmt(summarize(kitLat)) },
    ]);
  } finally {
    await clients.close();
    await deleteTopics(kafka, [rawTopic, `${prefix}live`, ...Object.values(topics).flatMap((x) => [x.topic, ...(x.dlq ? [x.dlq] : [])])]);
  }
}

async function provisionRaw(ctx: CliContext, kafka: KafkaClient, topic: string): Promise<void> {
  await ensureTopics(kafka, [{ topic, partitions: ctx.conn.partitions }]);
}
