/** What every command needs: connections parsed once from the environment and a logger on stderr. */
import { createLogger, loadConnections, type Connections, type Logger } from '@profile-stream/consumer-kit';

export interface CliContext {
  conn: Connections;
  log: Logger;
}

export function cliContext(name = 'cli'): CliContext {
  const level = (process.env.LOG_LEVEL as 'info' | undefined) ?? 'info';
  return { conn: loadConnections(), log: createLogger({ name, level }) };
}
