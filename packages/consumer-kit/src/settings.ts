/**
 * The settings every service and the CLI share, declared once: connections (connections.ts), topic names, the Redis
 * prefix, the log level and the profile rules the stitchers and the warehouse both apply. Each service's config.ts
 * declares its own settings next to these and builds its config as `{ ...loadSharedConfig(env), ...its own }`.
 */
import { DEFAULT_LOYALTY_TIERS, resolveTopics, TOPIC_DEFAULTS, type TopicTable } from '@profile-stream/contracts';
import { z } from 'zod';
import { env, parseSettings, setting, type Env, type LogLevel, type Settings, type SettingsGroup } from './config.ts';
import { CONNECTION_SETTINGS, loadConnections, type Connections } from './connections.ts';

/** Topic name overrides, one variable per topic (`TOPIC_CLICKSTREAM`, …), as the contracts' topic table names them. */
export const TOPIC_SETTINGS: Settings = Object.fromEntries(
  Object.values(TOPIC_DEFAULTS).map((t) => [
    t.envVar,
    setting(env.string(t.topic), `name of the ${t.topic} topic${t.input ? ` (its DLQ is \`<name>.dlq\`)` : ''}`),
  ]),
);

export const SHARED_SETTINGS = {
  REDIS_PREFIX: setting(
    env.string('ps:').refine((v) => !/[{}]/.test(v), 'may not contain { or } (they would change the Redis hash tags)'),
    'prefix of every profile, identity and segment key in Redis',
  ),
  LOG_LEVEL: setting(env.logLevel(), 'pino level (logs are JSON on stderr, e-mail and phone redacted)'),
  PROFILE_DEFAULT_REGION: setting(
    z
      .string()
      .regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 region like GB')
      .default('GB'),
    'ISO 3166-1 region for phone numbers written without a country code',
  ),
  PROFILE_JUNK_IDS: setting(env.list(), 'extra junk identifier values, comma-separated'),
  PROFILE_MAX_FUTURE_HOURS: setting(env.int(24, 0, 24 * 365), 'events further in the future are `future_timestamp`'),
  LOYALTY_TIERS: setting(
    env.list().transform((l) => (l.length === 0 ? DEFAULT_LOYALTY_TIERS : l)),
    "the loyalty programme's tiers, lowest first, comma-separated: a loyalty event naming another is `unknown_tier`; one `loyalty-<tier>` segment each",
  ),
};

/** The /health and /metrics port of each service when its `*_OPS_PORT` is unset: one table, so no two collide. */
export const OPS_PORTS = { clickstream: 9411, purchases: 9412, 'support-tickets': 9413, segmenter: 9414, loyalty: 9415, warehouse: 9420 } as const;

/** What every service's config (and the CLI's context) starts from. */
export interface SharedConfig {
  conn: Connections;
  topics: TopicTable;
  redisPrefix: string;
  logLevel: LogLevel;
  defaultRegion: string;
  junkIds: string[];
  maxFutureMs: number;
  /** The loyalty programme's tiers, lowest first (LOYALTY_TIERS). */
  loyaltyTiers: readonly string[];
}

export function loadSharedConfig(e: Env): SharedConfig {
  const conn = loadConnections(e);
  const c = parseSettings(SHARED_SETTINGS, e);
  const names = parseSettings(TOPIC_SETTINGS, e) as Env;
  return {
    conn,
    topics: resolveTopics({ env: names }),
    redisPrefix: c.REDIS_PREFIX,
    logLevel: c.LOG_LEVEL,
    defaultRegion: c.PROFILE_DEFAULT_REGION,
    junkIds: c.PROFILE_JUNK_IDS,
    maxFutureMs: c.PROFILE_MAX_FUTURE_HOURS * 3_600_000,
    loyaltyTiers: c.LOYALTY_TIERS,
  };
}

/** The shared groups as the README documents them (each service and the CLI add their own). */
export const SHARED_SETTINGS_GROUPS: SettingsGroup[] = [
  { title: 'Connections (every service and the CLI)', source: 'packages/consumer-kit/src/connections.ts', settings: CONNECTION_SETTINGS },
  { title: 'Shared (every service and the CLI)', source: 'packages/consumer-kit/src/settings.ts', settings: SHARED_SETTINGS },
  { title: 'Topic names (one per topic of schemas/topics.json)', source: 'packages/consumer-kit/src/settings.ts', settings: TOPIC_SETTINGS },
];
