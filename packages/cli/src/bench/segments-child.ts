/**
 * A child process of `bench segments`' latency part, in a process (and process group) of its own so that neither the
 * load nor its observation shares an event loop or a core's time slice with the bench or with each other. Driven over
 * IPC (advanced serialisation: Buffers pass as they are); the parent sends one SegmentsJob.
 *  - The producer sends the prepared input records at `rate` a second, in requests of 20 records (up to 8 in flight):
 *    it wakes once a request is due (when its last record is), hands the request's records to the client and sends
 *    them. Each record is timed from when it was due (its place in the schedule: n / rate), so a record waits in the
 *    producer up to 20 records' time (at 100/s 200 ms, at 1,000/s 20 ms) and that wait counts in its latency; it
 *    answers `ready` once connected and `produced` with the send times, the rate it achieved and the CPU it used, and
 *    exits on `finish` (once the bench has metered its process). Waking once per request, not per record, is what
 *    it costs the machine (measured, issue 12: a timer per record was 16 % of a core at 1,000/s).
 *  - The observer consumes the observed topics from their end (one consumer, a group of its own, one fetch for all of
 *    them: one observer per topic woke the broker for a fetch of each, issue 12), records the arrival time of each
 *    message (Date.now() once per batch, before anything else) and its bytes, and sends `progress` (membership
 *    events so far) every 500 ms. On `finish` it stops consuming and only then decodes what it kept into the event
 *    id each message answers (`raw`: the input's `bench-id` header; `membership`, `changes`: the record's
 *    `trigger_event_id`), so decoding costs the pipeline no CPU during the load; it answers `arrivals` with one
 *    (event id, arrival ms) per message of each observed topic.
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

/** The messages of one observed topic: the input event each answers (null: none), and when it arrived (epoch ms). */
export interface Arrivals {
  ids: (string | null)[];
  at: Float64Array;
  /** Membership events only: "<segment> <change>" of each (latency per segment). */
  labels?: string[];
}

/** What an observer reads from each message to name the input event it answers. */
export type Observed = 'raw' | 'membership' | 'changes';

export type SegmentsJob =
  | { role: 'producer'; brokers: string[]; topic: string; rate: number; records: InputRecord[] }
  | { role: 'observer'; brokers: string[]; registry: string; prefix: string; topics: { topic: string; observed: Observed }[]; groupId: string };

export type SegmentsReport =
  | { type: 'ready' }
  | { type: 'produced'; ids: string[]; sentAt: Float64Array; achievedRate: number; cpuMs: number; wallMs: number }
  | { type: 'progress'; count: number }
  | { type: 'arrivals'; of: Partial<Record<Observed, Arrivals>>; cpuMs: number }
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
  const PER_REQUEST = 20;
  const wall0 = Date.now() - performance.now(); // a due time (performance clock) as epoch ms
  const dueOf = (n: number) => start + (n / job.rate) * 1000;
  let i = 0;
  for (let from = 0; from < job.records.length; from += PER_REQUEST) {
    const to = Math.min(from + PER_REQUEST, job.records.length);
    const due = dueOf(to - 1); // the request goes when its last record is due
    if (due - performance.now() > 1) await sleep(due - performance.now());
    for (let n = from; n < to; n++) {
      const m = job.records[n]!;
      if (m.topic === undefined) sentAt[i++] = Math.round(wall0 + dueOf(n));
      await sender.add(m.topic ?? job.topic, { key: m.key, value: m.value, headers: { 'bench-id': m.id } });
    }
    // not waiting for acknowledgements in between (up to 8 in flight): a producer that waited would hold back the
    // next records
    await sender.send();
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
  const kafka = createKafka({ brokers: job.brokers, clientId: 'bench-segments-observer', logger: logger() });
  const registry = new ContractsRegistry({ host: job.registry, topics: resolveTopics({ prefix: job.prefix }) });
  const consumer = kafka.consumer({ groupId: job.groupId });
  onStop(() => consumer.disconnect());
  await consumer.connect();
  const kinds = new Map(job.topics.map((t) => [t.topic, t.observed]));
  for (const { topic } of job.topics) await consumer.subscribe({ topic, fromBeginning: false });
  const seen = new Map<Observed, { at: number[]; kept: (Buffer | string | null)[] }>(job.topics.map((t) => [t.observed, { at: [], kept: [] }]));
  const cpu0 = cpuMs();
  // No commits: an observer starts at the topics' end each time, and an offset commit per fetch would load the
  // broker's group coordinator for nothing (measured: ~13 % of a core at 1,000 events/s with three observers).
  await consumer.run({
    autoCommit: false,
    // A batch at a time (one call, one clock reading per batch): eachMessage cost the raw observer ~12 % of a core
    // at 1,000 events/s, on the cores the pipeline runs on.
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      const observed = kinds.get(batch.topic)!;
      const { at, kept } = seen.get(observed)!;
      for (const m of batch.messages) {
        at.push(now);
        kept.push(observed === 'raw' ? (m.headers?.['bench-id']?.toString() ?? null) : m.value);
      }
    },
  });
  const finish = nextMessage('finish');
  await report({ type: 'ready' });
  const progress = setInterval(() => void report({ type: 'progress', count: seen.get('membership')?.at.length ?? 0 }), 500);
  await finish;
  clearInterval(progress);
  await consumer.disconnect();
  onStop(undefined);
  const of: Partial<Record<Observed, Arrivals>> = {};
  for (const [observed, { at, kept }] of seen) {
    const ids: (string | null)[] = [];
    const labels: string[] = [];
    for (const k of kept) {
      if (k === null || typeof k === 'string') ids.push(k);
      else if (observed === 'membership') {
        const { value } = await registry.decode<{ trigger_event_id: string | null; segment_id: string; change: string }>(k);
        ids.push(value.trigger_event_id);
        labels.push(`${value.segment_id} ${value.change}`);
      } else ids.push((await registry.decodeRaw<{ trigger_event_id: string | null }>(k)).value.trigger_event_id);
    }
    of[observed] = { ids, at: Float64Array.from(at), ...(observed === 'membership' ? { labels } : {}) };
  }
  await report({ type: 'arrivals', of, cpuMs: cpuMs() - cpu0 });
}

serveJob<SegmentsJob>((job) => {
  // Buffers arrive as Uint8Arrays (structured clone); kafkajs wants Buffers.
  if (job.role === 'producer') return produce({ ...job, records: job.records.map((r) => ({ ...r, value: Buffer.from(r.value) })) });
  return observe(job);
});
