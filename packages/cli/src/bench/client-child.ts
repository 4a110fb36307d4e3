/**
 * A child process of `bench clients`' latency phase: one client's consumer, or its producer at a fixed rate, each in
 * a process (and process group) of its own, so that neither shares an event loop with the other or with the bench.
 * Driven over IPC (advanced serialisation: Buffers pass as they are). The parent sends one LatencyJob;
 *  - a consumer answers `ready` once in its group, takes `go` as the start of its measured window, and when it has
 *    handled `expect` messages answers `done` with one latency per message (CreateTime → its batch handled, ms) and
 *    the CPU it used since `go`;
 *  - a producer sends `rate` messages a second for `seconds` (CreateTime = when each send is handed to the client; up
 *    to 8 sends in flight), answers `started` when it begins and `done` with what it sent, the rate it achieved and
 *    its CPU.
 * Stopping (SIGTERM, SIGINT, the IPC channel lost): child-main.ts.
 */
import { createLogger } from '@profile-stream/consumer-kit';
import { cpuMs, onStop, report as sendReport, serveJob } from './child-main.ts';
import { type BenchConsumer, type BenchProducer, benchClient, type ClientName, type OutRecord } from './client-drivers.ts';

interface Common {
  client: ClientName;
  fetchWaitMs: number | undefined;
  brokers: string[];
  topic: string;
}
export type LatencyJob =
  | (Common & { role: 'consumer'; groupId: string; expect: number; handlerMs: number })
  | (Common & { role: 'producer'; rate: number; seconds: number; records: OutRecord[] });

export type ChildReport =
  | { type: 'ready' }
  | { type: 'started' }
  | { type: 'consumed'; count: number; latencies: number[]; fetches: number; cpuMs: number; wallMs: number }
  | { type: 'produced'; sent: number; achievedRate: number; cpuMs: number; wallMs: number }
  | { type: 'failed'; error: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const report = (r: ChildReport) => sendReport(r);

async function consume(job: Extract<LatencyJob, { role: 'consumer' }>): Promise<void> {
  const logger = createLogger({ name: 'bench', level: 'warn' });
  const client = benchClient(job.client, { brokers: job.brokers, clientId: 'bench-clients-consumer', logger, fetchWaitMs: job.fetchWaitMs });
  const latencies: number[] = [];
  let count = 0;
  let cpu0 = cpuMs();
  let fetches0 = 0;
  let t0 = performance.now();
  let finished!: () => void;
  const done = new Promise<void>((r) => {
    finished = r;
  });
  process.on('message', (m: { type: string }) => {
    if (m.type !== 'go') return;
    cpu0 = cpuMs();
    t0 = performance.now();
    fetches0 = consumer.fetches();
  });
  const consumer: BenchConsumer = await client.consume({
    topic: job.topic,
    groupId: job.groupId,
    commit: true,
    handle: async (batch) => {
      if (job.handlerMs > 0) await sleep(job.handlerMs);
      if (count >= job.expect) return;
      const now = Date.now();
      for (const ts of batch.timestamps()) latencies.push(now - ts);
      count += batch.size;
      if (count >= job.expect) finished();
    },
  });
  onStop(() => consumer.stop());
  await report({ type: 'ready' });
  await Promise.race([done, consumer.failed]);
  await report({ type: 'consumed', count, latencies, fetches: consumer.fetches() - fetches0, cpuMs: cpuMs() - cpu0, wallMs: performance.now() - t0 });
}

async function produce(job: Extract<LatencyJob, { role: 'producer' }>): Promise<void> {
  const client = benchClient(job.client, { brokers: job.brokers, clientId: 'bench-clients-producer', logger: createLogger({ name: 'bench', level: 'warn' }) });
  const producer: BenchProducer = await client.producer();
  onStop(() => producer.close());
  const total = job.rate * job.seconds;
  const pending = new Set<Promise<void>>();
  let failure: unknown;
  let sent = 0;
  await report({ type: 'started' });
  const cpu0 = cpuMs();
  const start = performance.now();
  while (sent < total) {
    if (failure) throw failure;
    const due = Math.min(total, Math.floor(((performance.now() - start) * job.rate) / 1000) + 1);
    if (due <= sent) {
      await sleep(1);
      continue;
    }
    while (pending.size >= 8) await Promise.race(pending);
    const records = Array.from({ length: due - sent }, (_, i) => job.records[(sent + i) % job.records.length]!);
    const p: Promise<void> = producer
      .send(job.topic, records, Date.now())
      .catch((err: unknown) => {
        failure = err;
      })
      .finally(() => pending.delete(p));
    pending.add(p);
    sent = due;
  }
  const lastSend = performance.now();
  await Promise.all(pending);
  if (failure) throw failure;
  await report({
    type: 'produced',
    sent,
    achievedRate: Math.round(sent / ((lastSend - start) / 1000)),
    cpuMs: cpuMs() - cpu0,
    wallMs: performance.now() - start,
  });
}

serveJob<LatencyJob>((job) => {
  // Buffers arrive as Uint8Arrays (structured clone); kafkajs wants Buffers.
  if (job.role === 'producer') return produce({ ...job, records: job.records.map((r) => ({ key: Buffer.from(r.key), value: Buffer.from(r.value) })) });
  return consume(job);
});
