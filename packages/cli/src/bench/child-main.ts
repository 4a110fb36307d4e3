/**
 * The child side of a bench child process (client-child.ts, segments-child.ts): take one job from the parent over IPC,
 * run it, report over IPC (`failed` with the error if it throws) and exit. SIGTERM or SIGINT (the bench stopping its
 * process groups) runs the close function the job registered and exits; so does losing the IPC channel (the bench died
 * without stopping its children: nobody reads the reports).
 */

let close: (() => Promise<void>) | undefined;

/** What closes the job's clients when the child is stopped (undefined: nothing left to close). */
export function onStop(fn: (() => Promise<void>) | undefined): void {
  close = fn;
}

/** CPU this process used so far, ms (user + system). */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Sends a report to the parent; settles once it is handed to the channel. */
export const report = (r: object): Promise<void> => new Promise<void>((resolve) => process.send!(r, () => resolve()));

/** The next message from the parent of `type`. */
export const nextMessage = (type: string): Promise<void> =>
  new Promise<void>((resolve) => {
    const on = (m: { type?: string }) => {
      if (m.type !== type) return;
      process.off('message', on);
      resolve();
    };
    process.on('message', on);
  });

async function stop(code: number): Promise<never> {
  const force = setTimeout(() => process.exit(code), 10_000);
  force.unref();
  await close?.().catch(() => undefined);
  process.exit(code);
}

/** Runs the parent's job with `run` when this process is a bench child (it has an IPC channel). */
export function serveJob<J>(run: (job: J) => Promise<void>): void {
  if (!process.send) return;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void stop(sig === 'SIGINT' ? 130 : 143));
  process.once('disconnect', () => void stop(1));
  process.once('message', (job: J) => {
    run(job)
      .then(() => stop(0))
      .catch(async (err: unknown) => {
        await report({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) }).catch(() => undefined);
        await stop(1);
      });
  });
}
