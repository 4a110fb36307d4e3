/** Graceful drain on SIGTERM/SIGINT: run the stop functions in order once, then exit. */
import type { Logger } from './logger.ts';

export function onShutdown(log: Logger, stops: Array<() => Promise<void>>, exit: (code: number) => void = (c) => process.exit(c)): () => void {
  let started = false;
  const handler = (signal: NodeJS.Signals) => {
    if (started) return;
    started = true;
    log.info({ signal }, 'draining');
    void (async () => {
      let code = 0;
      for (const stop of stops) {
        try {
          await stop();
        } catch (err) {
          code = 1;
          log.error({ err }, 'error while stopping');
        }
      }
      exit(code);
    })();
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}

/**
 * Process entry of a service: `start` it with a SIGTERM/SIGINT that arrives during start-up kept and honoured once
 * the service can drain, then drain on those signals (`onShutdown`).
 */
export async function runService<S extends { log: Logger; stop(): Promise<void> }>(start: () => Promise<S>): Promise<S> {
  let early: NodeJS.Signals | undefined;
  const remember = (signal: NodeJS.Signals) => { early = signal; };
  process.on('SIGTERM', remember);
  process.on('SIGINT', remember);
  let s: S;
  try {
    s = await start();
  } finally {
    process.off('SIGTERM', remember);
    process.off('SIGINT', remember);
  }
  onShutdown(s.log, [() => s.stop()]);
  if (early) process.kill(process.pid, early);
  return s;
}
