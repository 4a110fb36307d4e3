/**
 * The load generator of `bench api`, in a process (and process group) of its own so that the load shares no event loop
 * with the API or the bench. Closed loop: `concurrency` workers, each with a connection of its own, send the next
 * request as soon as the previous one is answered, for `seconds`; each worker walks the target list from its own
 * offset. Two targets:
 *  - `http`: GET <base><path> with the bearer key over keep-alive connections (node:http, one socket per worker);
 *    a non-200 answer is an error (the first few are kept, to be shown).
 *  - `redis`: the raw baseline, the profile document GET + meta HGETALL of the same profile in one pipeline, on a
 *    connection per worker (the same concurrency).
 * Reports `done` with the latency of every request (ms), the count of errors and the CPU this process used; the
 * parent meters the other processes. Stopping: child-main.ts.
 */
import { Agent, request } from 'node:http';
import { Redis } from 'ioredis';
import { cpuMs, onStop, report, serveJob } from './child-main.ts';

export type ApiLoadJob =
  | { target: 'http'; base: string; token: string; paths: string[]; concurrency: number; seconds: number }
  | { target: 'redis'; url: string; keys: [doc: string, meta: string][]; concurrency: number; seconds: number };

export type ApiLoadReport =
  | { type: 'done'; latencies: Float64Array; errors: number; firstErrors: string[]; wallMs: number; cpuMs: number }
  | { type: 'failed'; error: string };

/** Runs `one(i)` in `concurrency` closed loops for `seconds`; the latency of each call, ms, in completion order. */
async function closedLoop(concurrency: number, seconds: number, count: number, one: (worker: number, i: number) => Promise<void>) {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      // Spread the workers over the list so they do not read the same keys in step.
      for (let i = Math.floor((w * count) / concurrency); performance.now() < end; i++) {
        const t = performance.now();
        await one(w, i % count);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies: Float64Array.from(latencies), wallMs: performance.now() - start };
}

async function http(job: Extract<ApiLoadJob, { target: 'http' }>): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  onStop(async () => agent.destroy());
  let errors = 0;
  const firstErrors: string[] = [];
  const get = (path: string) =>
    new Promise<void>((resolve) => {
      const req = request(`${job.base}${path}`, { agent, headers: { authorization: `Bearer ${job.token}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) {
            errors++;
            if (firstErrors.length < 5) firstErrors.push(`${res.statusCode} ${path}: ${Buffer.concat(chunks).toString().slice(0, 200)}`);
          }
          resolve();
        });
      });
      req.on('error', (err) => {
        errors++;
        if (firstErrors.length < 5) firstErrors.push(`${path}: ${err.message}`);
        resolve();
      });
      req.end();
    });
  const cpu0 = cpuMs();
  const r = await closedLoop(job.concurrency, job.seconds, job.paths.length, (_w, i) => get(job.paths[i]!));
  agent.destroy();
  await report({ type: 'done', ...r, errors, firstErrors, cpuMs: cpuMs() - cpu0 } satisfies ApiLoadReport);
}

async function redis(job: Extract<ApiLoadJob, { target: 'redis' }>): Promise<void> {
  const conns = Array.from({ length: job.concurrency }, () => new Redis(job.url, { maxRetriesPerRequest: 1 }));
  onStop(async () => {
    for (const c of conns) c.disconnect();
  });
  await Promise.all(conns.map((c) => c.ping()));
  let errors = 0;
  const firstErrors: string[] = [];
  const cpu0 = cpuMs();
  const r = await closedLoop(job.concurrency, job.seconds, job.keys.length, async (w, i) => {
    const [doc, meta] = job.keys[i]!;
    const res = await conns[w]!.pipeline().get(doc).hgetall(meta).exec();
    const failed = res?.find(([err]) => err);
    if (!res || failed) {
      errors++;
      if (firstErrors.length < 5) firstErrors.push(String(failed?.[0] ?? 'no reply'));
    }
  });
  for (const c of conns) c.disconnect();
  await report({ type: 'done', ...r, errors, firstErrors, cpuMs: cpuMs() - cpu0 } satisfies ApiLoadReport);
}

serveJob<ApiLoadJob>((job) => (job.target === 'http' ? http(job) : redis(job)));
