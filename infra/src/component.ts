import { join } from 'node:path';
import type { Connections, Logger } from '@profile-stream/consumer-kit';

/** One part of the local stack. External parts (a URL variable is set) are only probed, never started. */
export interface Component {
  readonly name: string;
  readonly port: number | undefined;
  readonly external: boolean;
  /** False for parts with no process of their own (embedded chDB). */
  readonly managed: boolean;
  readonly logFile: string;
  readonly pidFile: string;
  /** Download/build/install once into the cache; cheap when already there. */
  fetch(): Promise<void>;
  /** Start the process (only called when it is not running). */
  start(): Promise<void>;
  /** Resolves truthy when the part answers real requests. */
  ready(): Promise<boolean>;
  version(): string;
}

export interface ComponentContext {
  conn: Connections;
  log: Logger;
  runDir: string;
  logDir: string;
}

export function componentFiles(ctx: ComponentContext, name: string): { logFile: string; pidFile: string } {
  return { logFile: join(ctx.logDir, `${name}.log`), pidFile: join(ctx.runDir, `${name}.pid`) };
}
