/**
 * The entry of a service process, light enough to import first (no dependencies): a SIGTERM/SIGINT that arrives
 * while the service's modules load is kept and honoured once the service can drain (its main installs its own
 * handling before its first await), and a start-up failure is one line naming the cause, exit 1.
 */
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
    const code = err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? `${err.code}: ` : '';
    process.stderr.write(`${name}: ${code}${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
