/**
 * Settings: every environment variable a service or the CLI reads is declared once, as a `setting` — its parser (zod,
 * with its default) and a one-line description — in a declaration object (`CONNECTION_SETTINGS`, `SHARED_SETTINGS`,
 * each service's config.ts, the CLI's context.ts). A program parses its declarations once, at start, from the env its
 * entry point hands in; a bad value fails with a ConfigError naming the variable. The README's configuration table is
 * generated from the same declarations (`npm run docs:config`; a test checks it is current).
 */
import type { LevelWithSilent } from 'pino';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

export type Env = Record<string, string | undefined>;

/** Parse `env` with a zod object whose keys are the variable names (values trimmed; empty means unset). */
export function parseEnv<S extends z.ZodObject>(schema: S, env: Env): z.infer<S> {
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

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const satisfies readonly LevelWithSilent[];
export type LogLevel = (typeof LOG_LEVELS)[number];

const PORT = 'expected a TCP port number (1-65535)';
const OPS_PORT = 'expected a TCP port number (0-65535)';

/** Reusable field parsers with messages that say what is expected. */
export const env = {
  port: (def: number) => z.coerce.number({ error: PORT }).int(PORT).min(1, PORT).max(65535, PORT).default(def),
  /** A service's /health and /metrics port: 0 lets the system pick a free one (tests, the demo). */
  opsPort: (def: number) => env.optionalOpsPort().default(def),
  optionalOpsPort: () => z.coerce.number({ error: OPS_PORT }).int(OPS_PORT).min(0, OPS_PORT).max(65535, OPS_PORT).optional(),
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
  logLevel: () => z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  /** Comma-separated values, trimmed, empty ones dropped (default: none). */
  list: () =>
    z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
};

/** One environment variable: how it is parsed (the schema's default is the setting's default) and what it sets. */
export interface Setting<T extends z.ZodType = z.ZodType> {
  readonly schema: T;
  /** One line: what the variable sets (the README's "meaning" column). */
  readonly doc: string;
  /**
   * The default as documented, only for a setting whose schema has none because the loader computes it (from another
   * setting, the host, the service): e.g. "unset: local broker on `KAFKA_PORT`".
   */
  readonly shown?: string;
}

export type Settings = Readonly<Record<string, Setting>>;
export type SettingValues<S extends Settings> = { [K in keyof S]: z.output<S[K]['schema']> };

export function setting<T extends z.ZodType>(schema: T, doc: string, shown?: string): Setting<T> {
  return shown === undefined ? { schema, doc } : { schema, doc, shown };
}

/** Parse the declared variables from `env` (and only those); throws ConfigError naming the first bad one. */
export function parseSettings<S extends Settings>(declared: S, e: Env): SettingValues<S> {
  const shape = Object.fromEntries(Object.entries(declared).map(([name, s]) => [name, s.schema]));
  return parseEnv(z.object(shape), e) as SettingValues<S>;
}

/** The value a setting has when its variable is unset (undefined when the schema has no default). */
export function defaultValue(s: Setting): unknown {
  const r = s.schema.safeParse(undefined);
  return r.success ? r.data : undefined;
}

/** The default as the README shows it: the schema's own default, else `shown`, else "unset". */
export function shownDefault(s: Setting): string {
  const v = defaultValue(s);
  if (v === undefined) return s.shown ?? 'unset';
  if (Array.isArray(v) || v instanceof Set) return [...v].length === 0 ? '(none)' : `\`${[...v].join(',')}\``;
  if (typeof v === 'string') return v === '' ? '(none)' : `\`${v}\``;
  return String(v);
}

/** A declaration group as documented: a title, where it is declared, and its settings. */
export interface SettingsGroup {
  title: string;
  source: string;
  settings: Settings;
}

const cell = (s: string) => s.replaceAll('|', '\\|');

/** The Markdown of the configuration tables: one per group, a row per variable, in declaration order. */
export function settingsTables(groups: readonly SettingsGroup[]): string {
  return groups
    .map((g) =>
      [
        `**${g.title}** (\`${g.source}\`)`,
        '',
        '| variable | default | meaning |',
        '|---|---|---|',
        ...Object.entries(g.settings).map(([name, s]) => `| \`${name}\` | ${cell(shownDefault(s))} | ${cell(s.doc)} |`),
      ].join('\n'),
    )
    .join('\n\n');
}
