/**
 * The entry of a service process, light enough to import first (nothing but the error model): a SIGTERM/SIGINT that arrives
 * while the service's modules load is kept and honoured once the service can drain (its main installs its own
 * handling before its first await), and a start-up failure is one line naming the cause, exit 1.
 */
import { codeOf, errorMessage } from '@profile-stream/contracts/errors';

export async function runEntry(name: string, load: () => Promise<() => Promise<unknown>>): Promise<void> {
  const early: NodeJS.Signals[] = [];
  const remember = (signal: NodeJS.Signals) => { early.push(signal); };
  process.on('SIGTERM', remember);
  process.on('SIGINT', remember);
  try {
    const main = await load();
    const running = main();
    process.off('SIGTERM', remember);
    process.off('SIGINT', remember);
    for (const signal of early) process.kill(process.pid, signal);
    await running;
  } catch (err) {
    const code = codeOf(err);
    process.stderr.write(`${name}: ${code ? `${code}: ` : ''}${errorMessage(err)}\n`);
    process.exit(1);
  }
}
