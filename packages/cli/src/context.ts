/**
 * What every command needs, parsed once from the environment the CLI was started with (the one place the CLI reads
 * `process.env`): the shared settings (connections, topics, Redis prefix, log level, region), the CLI's own, and a
 * logger on stderr. Commands that load a service's config (demo, segments, sql) hand it `ctx.env`.
 */
import {
  createLogger,
  env,
  loadSharedConfig,
  parseSettings,
  setting,
  SHARED_SETTINGS,
  type Env,
  type Logger,
  type SharedConfig,
} from '@profile-stream/consumer-kit';

export const CLI_SETTINGS = {
  BENCH_CPU_PROF: setting(env.optionalString(), '`bench`: a directory to write CPU profiles of the service processes into'),
};

export interface CliContext extends SharedConfig {
  log: Logger;
  /** The environment the settings were parsed from (with the command's defaults applied). */
  env: Env;
  /** BENCH_CPU_PROF. */
  cpuProfileDir: string | undefined;
}

/** `defaults` apply to variables that are unset (the demo keeps its logs quiet unless LOG_LEVEL is set). */
export function cliContext(name = 'cli', defaults: Env = {}): CliContext {
  const e: Env = { ...defaults };
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && v.trim() !== '') e[k] = v;
  const shared = loadSharedConfig(e);
  const c = parseSettings(CLI_SETTINGS, e);
  return { ...shared, env: e, cpuProfileDir: c.BENCH_CPU_PROF, log: createLogger({ name, level: shared.logLevel }) };
}

/** Whether an error without a code prints its stack: LOG_LEVEL is debug or trace (a bad LOG_LEVEL is not). */
export function showStacks(): boolean {
  const r = SHARED_SETTINGS.LOG_LEVEL.schema.safeParse(process.env.LOG_LEVEL?.trim() || undefined);
  return r.success && (r.data === 'debug' || r.data === 'trace');
}
