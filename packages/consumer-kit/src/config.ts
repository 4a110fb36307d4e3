/**
 * Configuration is read from the environment once, in main.ts, through a zod schema.
 * A bad value fails at start with a ConfigError naming the variable.
 */
import { z } from 'zod';
import { ConfigError } from './errors.ts';

export type Env = Record<string, string | undefined>;

/** Parse `env` with a zod object whose keys are the variable names. */
export function parseEnv<S extends z.ZodObject>(schema: S, env: Env = process.env): z.infer<S> {
  const picked: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    picked[key] = v === undefined || v.trim() === '' ? undefined : v.trim();
  }
  const result = schema.safeParse(picked);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const variable = String(issue.path[0] ?? '(config)');
    throw new ConfigError(variable, `${issue.message} (got ${JSON.stringify(picked[variable] ?? null)})`);
  }
  return result.data;
}

/** Reusable field parsers with messages that say what is expected. */
export const env = {
  port: (def: number) => {
    const msg = 'expected a TCP port number (1-65535)';
    return z.coerce.number({ error: msg }).int(msg).min(1, msg).max(65535, msg).default(def);
  },
  int: (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce.number({ error: 'expected an integer' }).int(`expected an integer`).min(min).max(max).default(def),
  string: (def: string) => z.string().min(1).default(def),
  optionalString: () => z.string().min(1).optional(),
  url: () => z.url({ error: 'expected a URL like http://host:port' }).optional(),
  bool: (def: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
      .default(def ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  logLevel: () => z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
};
