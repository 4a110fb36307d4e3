/**
 * `bench clients`: kafkajs (as consumer-kit configures it) against @platformatic/kafka on the real broker, one run,
 * the same bytes (pre-encoded Avro clickstream events, their user or anonymous id as key) for both:
 *  a. produce: N messages to a fresh topic, batches of 1,000 with up to 4 in flight (the CLI's Sender), acks all,
 *     idempotent;
 *  b. consume, from the beginning of the topic kafkajs produced, in a fresh group: count only (nothing committed),
 *     then with a handler that takes `handlerMs` per batch of up to 500 and a commit after each;
 *  c. latency at fixed rates: the client's producer and its consumer (handler as in b) each in a child process of its
 *     own (client-child.ts), CreateTime → batch handled, p50/p95/p99/max, and the rate the producer achieved;
 *  d. CPU of each process in each phase (the bench's own for a and b, the children's for c, the broker's always) as
 *     % of one core of the phase's wall time (the machine has two).
 * One table, both clients side by side with their ratio. Topics are under a fresh `bench-clients-` prefix, deleted
 * at the end; the children lead their own process groups and are stopped on SIGINT/SIGTERM and at exit.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { createKafka, deleteTopics, ensureTopics } from '@profile-stream/consumer-kit';
import { openClients } from '../clients.ts';
import type { CliContext } from '../context.ts';
import { printTable } from '../table.ts';
import { type BenchClient, benchClient, CLIENT_LABEL, CLIENTS, type ClientName, type OutRecord } from './client-drivers.ts';
import { latencyRun, stopChildren, within } from './client-latency.ts';
import { meterCpu, stackProcesses } from './cpu.ts';
import { clickEvents } from './kafka.ts';
import { rate, summarize } from './stats.ts';

export interface ClientsOptions {
  events: number;
  rates: number[];
  seconds: number;
  handlerMs: number;
  /** @platformatic/kafka's consumer: wait up to this for 64 KiB per fetch (ClientOptions.fetchWaitMs). */
  fetchWaitMs?: number | undefined;
}

/** One measure per client (a row of the table). */
type Figures = Record<ClientName, number>;
interface Row {
  phase: string;
  measure: string;
  figures: Figures;
  /** How many decimals to print. */
  digits?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function pool(ctx: CliContext, n: number): Promise<OutRecord[]> {
  const clients = openClients(ctx);
  try {
    const topic = ctx.topics.clickstream.topic;
    return await Promise.all(
      clickEvents(n).map(async (e) => ({ key: Buffer.from(String(e.user_id ?? e.anonymous_id)), value: await clients.registry.encode(topic, e) })),
    );
  } finally {
    await clients.close();
  }
}

async function produceAll(client: BenchClient, topic: string, records: OutRecord[]): Promise<{ ms: number; cpu: number }> {
  const producer = await client.producer();
  try {
    const cpu0 = cpuMs();
    const t0 = performance.now();
    const pending = new Set<Promise<void>>();
    for (let i = 0; i < records.length; i += 1000) {
      while (pending.size >= 4) await Promise.race(pending);
      const p: Promise<void> = producer.send(topic, records.slice(i, i + 1000)).finally(() => pending.delete(p));
      pending.add(p);
    }
    await Promise.all(pending);
    return { ms: performance.now() - t0, cpu: cpuMs() - cpu0 };
  } finally {
    await producer.close();
  }
}

/** Consumes `n` messages of `topic` in a fresh group; rate and CPU from its first batch (group join excluded). */
async function consumeAll(client: BenchClient, topic: string, groupId: string, n: number, handlerMs: number | undefined) {
  let count = 0;
  let t0 = 0;
  let cpu0 = 0;
  let finished!: (r: { ms: number; cpu: number }) => void;
  const done = new Promise<{ ms: number; cpu: number }>((r) => {
    finished = r;
  });
  const consumer = await client.consume({
    topic,
    groupId,
    commit: handlerMs !== undefined,
    handle: async (batch) => {
      if (t0 === 0) {
        t0 = performance.now();
        cpu0 = cpuMs();
      }
      if (handlerMs) await sleep(handlerMs);
      count += batch.size;
      if (count >= n) finished({ ms: performance.now() - t0, cpu: cpuMs() - cpu0 });
    },
  });
  try {
    const r = await within(Promise.race([done, consumer.failed]), 120_000, `consuming ${topic}`);
    return { ...r, count, fetches: consumer.fetches() };
  } finally {
    await consumer.stop();
  }
}

function printRows(rows: Row[]): void {
  const fmt = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '—');
  printTable(
    rows.map((r) => ({
      phase: r.phase,
      measure: r.measure,
      [CLIENT_LABEL.kafkajs]: fmt(r.figures.kafkajs, r.digits),
      [CLIENT_LABEL.platformatic]: fmt(r.figures.platformatic, r.digits),
      'ratio (platformatic / kafkajs)': fmt(r.figures.platformatic / r.figures.kafkajs, 2),
    })),
  );
}

/** `run` for each client, one after the other (never both at once). */
async function each<T>(run: (c: ClientName) => Promise<T>): Promise<Record<ClientName, T>> {
  const out: Partial<Record<ClientName, T>> = {};
  for (const c of CLIENTS) out[c] = await run(c);
  return out as Record<ClientName, T>;
}
const pick = <T>(r: Record<ClientName, T>, f: (x: T) => number): Figures => ({ kafkajs: f(r.kafkajs), platformatic: f(r.platformatic) });

export async function benchClients(ctx: CliContext, o: ClientsOptions): Promise<void> {
  const prefix = `bench-clients-${randomBytes(3).toString('hex')}.`;
  const brokers = ctx.conn.kafka.brokers;
  const kafka = createKafka({ brokers, clientId: 'bench-clients', logger: ctx.log });
  const broker = stackProcesses(ctx.conn.dataDir).filter((p) => p.name === 'kafka');
  const client = (c: ClientName) => benchClient(c, { brokers, clientId: 'bench-clients', logger: ctx.log, fetchWaitMs: o.fetchWaitMs });
  const topics: string[] = [];
  const newTopic = async (name: string) => {
    const topic = `${prefix}${name}`;
    topics.push(topic);
    await ensureTopics(kafka, [{ topic, partitions: ctx.conn.partitions }]);
    return topic;
  };
  const messagesIn = async (topic: string) => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic)).reduce((a, e) => a + Number(e.high) - Number(e.low), 0);
    } finally {
      await admin.disconnect();
    }
  };
  const brokerPct = (m: ReturnType<typeof meterCpu>) => Number(m.read()[0]?.['% of a core'] ?? Number.NaN);
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  process.stderr.write(`bench clients: topics under ${prefix} (deleted at the end); load average ${load()} (1, 5, 15 min; 2 cores)\n`);
  process.stderr.write(`encoding ${Math.min(o.events, 10_000)} clickstream events...\n`);
  const distinct = await pool(ctx, Math.min(o.events, 10_000));
  const records = Array.from({ length: o.events }, (_, i) => distinct[i % distinct.length]!);
  const rows: Row[] = [];
  const per1k = (cpu: number) => (1000 * cpu) / o.events;
  try {
    // a. produce
    process.stderr.write(`produce: ${o.events} messages per client...\n`);
    const produced = await each(async (c) => {
      const topic = await newTopic(`produce-${c}`);
      const m = meterCpu(broker);
      const r = await produceAll(client(c), topic, records);
      return { ...r, broker: brokerPct(m), topic, inTopic: await messagesIn(topic) };
    });
    const phaseA = `produce ${o.events} (acks all, idempotent)`;
    rows.push(
      { phase: phaseA, measure: 'messages/s', figures: pick(produced, (r) => rate(o.events, r.ms)) },
      { phase: phaseA, measure: 'messages in the topic after', figures: pick(produced, (r) => r.inTopic) },
      { phase: phaseA, measure: 'client CPU ms per 1,000 messages', figures: pick(produced, (r) => per1k(r.cpu)), digits: 1 },
      { phase: phaseA, measure: 'broker CPU, % of a core', figures: pick(produced, (r) => r.broker) },
    );

    // b. consume the topic kafkajs produced, from the beginning: count only, then with the handler and commits
    const source = produced.kafkajs.topic;
    for (const handlerMs of [undefined, o.handlerMs]) {
      const phase = handlerMs === undefined ? 'consume (count only)' : `consume, handler ${handlerMs} ms per ≤ 500 + commit`;
      process.stderr.write(`${phase}...\n`);
      const consumed = await each(async (c) => {
        const m = meterCpu(broker);
        const r = await consumeAll(client(c), source, `${prefix}${handlerMs === undefined ? 'count' : 'handled'}-${c}`, o.events, handlerMs);
        return { ...r, broker: brokerPct(m) };
      });
      rows.push(
        { phase, measure: 'messages/s', figures: pick(consumed, (r) => rate(o.events, r.ms)) },
        { phase, measure: 'messages consumed', figures: pick(consumed, (r) => r.count) },
        { phase, measure: 'fetch requests', figures: pick(consumed, (r) => r.fetches) },
        { phase, measure: 'client CPU ms per 1,000 messages', figures: pick(consumed, (r) => per1k(r.cpu)), digits: 1 },
        { phase, measure: 'broker CPU, % of a core', figures: pick(consumed, (r) => r.broker) },
      );
    }

    // c. latency at fixed rates, producer and consumer in child processes
    for (const r of o.rates) {
      const phase = `latency at ${r}/s for ${o.seconds} s, handler ${o.handlerMs} ms`;
      process.stderr.write(`${phase}...\n`);
      const runs = await each(async (c) =>
        latencyRun({ client: c, brokers, topic: await newTopic(`latency-${r}-${c}`), rate: r, records: distinct.slice(0, 2000), broker }, o),
      );
      const lat = { kafkajs: summarize(runs.kafkajs.latencies), platformatic: summarize(runs.platformatic.latencies) };
      rows.push(
        { phase, measure: 'rate the producer achieved (messages/s)', figures: pick(runs, (x) => x.achievedRate) },
        { phase, measure: 'messages consumed', figures: pick(runs, (x) => x.consumed) },
        { phase, measure: 'p50 ms (CreateTime → handled)', figures: pick(lat, (x) => x.p50) },
        { phase, measure: 'p95 ms', figures: pick(lat, (x) => x.p95) },
        { phase, measure: 'p99 ms', figures: pick(lat, (x) => x.p99) },
        { phase, measure: 'max ms', figures: pick(lat, (x) => x.max) },
        { phase, measure: 'consumer fetch requests', figures: pick(runs, (x) => x.fetches) },
        { phase, measure: 'consumer process CPU, % of a core', figures: pick(runs, (x) => x.consumerPct) },
        { phase, measure: 'producer process CPU, % of a core', figures: pick(runs, (x) => x.producerPct) },
        { phase, measure: 'broker CPU, % of a core', figures: pick(runs, (x) => x.brokerPct) },
      );
    }
  } finally {
    await stopChildren();
    await deleteTopics(kafka, topics);
  }
  const tuned = o.fetchWaitMs ? `; @platformatic/kafka fetches wait up to ${o.fetchWaitMs} ms for 64 KiB` : '';
  process.stdout.write(`\nKafka clients, one after the other on the same broker (load average ${load()}; 2 cores${tuned}):\n`);
  printRows(rows);
}
