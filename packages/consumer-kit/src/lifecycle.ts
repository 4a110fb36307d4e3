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
