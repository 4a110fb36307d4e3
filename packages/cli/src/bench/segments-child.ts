/**
 * A child process of `bench segments`' latency part, in a process (and process group) of its own so that neither the
 * load nor its observation shares an event loop or a core's time slice with the bench or with each other. Driven over
 * IPC (advanced serialisation: Buffers pass as they are); the parent sends one SegmentsJob.
 *  - The producer sends the prepared input records at `rate` a second (a request every 20 records, up to 8 in flight;
 *    so at 100/s a record waits up to 200 ms in the producer, at 1,000/s up to 20 ms), from `go` on, and records the send time of each event id (Date.now()
 *    when the record is handed to the client); it answers `ready` once connected and `produced` with the send times,
 *    the rate it achieved and the CPU it used, and exits on `finish` (once the bench has metered its process).
 *  - An observer consumes one topic from its end (a group of its own), records the arrival time of each message
 *    (Date.now() before anything else) and its bytes, and sends `progress` (messages so far) every 500 ms. On `finish`
 *    it stops consuming and only then decodes what it kept into the event id each message answers (`raw`: the input's
 *    `bench-id` header; `membership`, `changes`: the record's `trigger_event_id`), so decoding costs the pipeline no
 *    CPU during the load; it answers `arrivals` with one (event id, arrival ms) per message.
 * The parent joins send and arrival times by event id (same machine clock). Stopping: child-main.ts.
 */
import { ContractsRegistry, resolveTopics } from '@profile-stream/contracts';
import { createKafka, createLogger, createProducer } from '@profile-stream/consumer-kit';
import { Sender } from '../sender.ts';
import { cpuMs, nextMessage, onStop, report as sendReport, serveJob } from './child-main.ts';

export interface InputRecord {
  id: string;
  key: string | null;
  value: Buffer;
  /** Another input topic than the job's (loyalty events among the purchases): paced like the others, not timed. */
  topic?: string;
}

/** What an observer reads from each message to name the input event it answers. */
export type Observed = 'raw' | 'membership' | 'changes';

export type SegmentsJob =
  | { role: 'producer'; brokers: string[]; topic: string; rate: number; records: InputRecord[] }
  | { role: 'observer'; brokers: string[]; registry: string; prefix: string; topic: string; groupId: string; observed: Observed };

export type SegmentsReport =
  | { type: 'ready' }
  | { type: 'produced'; ids: string[]; sentAt: Float64Array; achievedRate: number; cpuMs: number; wallMs: number }
  | { type: 'progress'; count: number }
  | { type: 'arrivals'; ids: (string | null)[]; at: Float64Array; cpuMs: number }
  | { type: 'failed'; error: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const report = (r: SegmentsReport) => sendReport(r);
const logger = () => createLogger({ name: 'bench', level: 'warn' });

async function produce(job: Extract<SegmentsJob, { role: 'producer' }>): Promise<void> {
  const kafka = createKafka({ brokers: job.brokers, clientId: 'bench-segments-producer', logger: logger() });
  const producer = createProducer(kafka);
  await producer.connect();
  onStop(() => producer.disconnect());
  const sender = new Sender(producer, { batchSize: 50, inFlight: 8 });
  const go = nextMessage('go');
  await report({ type: 'ready' });
  await go;
  const sentAt = new Float64Array(job.records.length);
  const cpu0 = cpuMs();
  const start = performance.now();
  const probed = job.records.filter((m) => m.topic === undefined);
  // Every record is paced at `rate` (the input rate counts loyalty events too); only the job topic's records are timed.
  let i = 0;
  for (const [n, m] of job.records.entries()) {
    const due = start + (n / job.rate) * 1000;
    if (due - performance.now() > 1) await sleep(due - performance.now());
    if (m.topic === undefined) sentAt[i++] = Date.now();
    await sender.add(m.topic ?? job.topic, { key: m.key, value: m.value, headers: { 'bench-id': m.id } });
    // a request per 20 records, not waiting for acknowledgements in between (up to 8 in flight): a producer that
    // waited would hold back the next records and time them from when it resumed
    if (n % 20 === 19) await sender.send();
  }
  await sender.flush();
  const wallMs = performance.now() - start;
  const finish = nextMessage('finish');
  await report({
    type: 'produced',
    ids: probed.map((r) => r.id),
    sentAt,
    achievedRate: Math.round(job.records.length / (wallMs / 1000)),
    cpuMs: cpuMs() - cpu0,
    wallMs,
  });
  await finish; // alive until the bench has metered its CPU
}

async function observe(job: Extract<SegmentsJob, { role: 'observer' }>): Promise<void> {
  const kafka = createKafka({ brokers: job.brokers, clientId: `bench-segments-${job.observed}`, logger: logger() });
  const registry = new ContractsRegistry({ host: job.registry, topics: resolveTopics({ prefix: job.prefix }) });
  const consumer = kafka.consumer({ groupId: job.groupId });
  onStop(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topic: job.topic, fromBeginning: false });
  const at: number[] = [];
  const kept: (Buffer | string | null)[] = [];
  const cpu0 = cpuMs();
  // No commits: an observer starts at the topic's end each time, and an offset commit per fetch would load the
  // broker's group coordinator for nothing (measured: ~13 % of a core at 1,000 events/s with three observers).
  await consumer.run({
    autoCommit: false,
    // A batch at a time (one call, one clock reading per fetch): eachMessage cost the raw observer ~12 % of a core
    // at 1,000 events/s, on the cores the pipeline runs on.
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const m of batch.messages) {
        at.push(now);
        kept.push(job.observed === 'raw' ? (m.headers?.['bench-id']?.toString() ?? null) : m.value);
      }
    },
  });
  const finish = nextMessage('finish');
  await report({ type: 'ready' });
  const progress = setInterval(() => void report({ type: 'progress', count: at.length }), 500);
  await finish;
  clearInterval(progress);
  await consumer.disconnect();
  onStop(undefined);
  const ids: (string | null)[] = [];
  for (const k of kept) {
    if (k === null || typeof k === 'string') ids.push(k);
    else if (job.observed === 'membership') ids.push((await registry.decode<{ trigger_event_id: string | null }>(k)).value.trigger_event_id);
    else ids.push((await registry.decodeRaw<{ trigger_event_id: string | null }>(k)).value.trigger_event_id);
  }
  await report({ type: 'arrivals', ids, at: Float64Array.from(at), cpuMs: cpuMs() - cpu0 });
}

serveJob<SegmentsJob>((job) => {
  // Buffers arrive as Uint8Arrays (structured clone); kafkajs wants Buffers.
  if (job.role === 'producer') return produce({ ...job, records: job.records.map((r) => ({ ...r, value: Buffer.from(r.value) })) });
  return observe(job);
});
