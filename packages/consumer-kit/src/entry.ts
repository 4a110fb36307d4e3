/**
 * The entry of a service process, light enough to import first (nothing but the error model and the drain), and the
 * one place that keeps a start-up signal: a SIGTERM/SIGINT that arrives while the service starts (its modules load,
 * its config is parsed, it connects) is kept and honoured once the service can drain. A start-up failure is one line
 * naming the cause, exit 1. A service's main is one call:
 *   await runService('segmenter', async () => {
 *     const { loadSegmenterConfig, startSegmenter } = await import('@profile-stream/segmenter');
 *     return startSegmenter(loadSegmenterConfig(process.env));
 *   });
 */
import { codeOf, errorMessage } from '@profile-stream/contracts/errors';
import { onShutdown } from './lifecycle.ts';
import type { Logger } from './logger.ts';

/** A started service: where it logs, and how it drains. */
export interface RunningService {
  log: Logger;
  stop(): Promise<void>;
}

export async function runService(name: string, start: () => Promise<RunningService>): Promise<void> {
  const early: NodeJS.Signals[] = [];
  const remember = (signal: NodeJS.Signals) => {
    early.push(signal);
  };
  process.on('SIGTERM', remember);
  process.on('SIGINT', remember);
  try {
    const service = await start();
    onShutdown(service.log, [() => service.stop()]);
    process.off('SIGTERM', remember);
    process.off('SIGINT', remember);
    // Raised again now that the drain handles it (it drains once, whatever follows).
    if (early.length > 0) process.kill(process.pid, early[0]!);
  } catch (err) {
    const code = codeOf(err);
    process.stderr.write(`${name}: ${code ? `${code}: ` : ''}${errorMessage(err)}\n`);
    process.exit(1);
  }
}
