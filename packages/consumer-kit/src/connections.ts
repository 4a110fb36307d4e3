/**
 * Where the pipeline's parts are. Each part is local (started by `profile-stream stack up` on the
 * given port) unless its URL variable points elsewhere.
 */
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { env, parseSettings, setting, type Env } from './config.ts';

/** The repository root (where package.json with the workspaces lives). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

export const CONNECTION_SETTINGS = {
  KAFKA_BROKERS: setting(
    z
      .string()
      .regex(/^[^\s:,]+:\d{1,5}(,\s*[^\s:,]+:\d{1,5})*$/, 'expected host:port[,host:port...]')
      .optional(),
    '`host:port[,host:port…]` of your own Kafka; when set, `stack up` starts no broker',
    'unset: local broker on `KAFKA_PORT`',
  ),
  KAFKA_PORT: setting(env.port(9092), 'port of the local broker'),
  KAFKA_CONTROLLER_PORT: setting(env.port(9093), 'controller port of the local broker'),
  SCHEMA_REGISTRY_URL: setting(
    env.url(),
    'a Confluent-API registry (Confluent SR, Apicurio ccompat, Karapace, AxonOps)',
    'unset: local registry on `SCHEMA_REGISTRY_PORT`',
  ),
  SCHEMA_REGISTRY_PORT: setting(env.port(8081), 'port of the local registry'),
  REGISTRY_POSTGRES_PORT: setting(env.port(5433), "port of the local registry's PostgreSQL"),
  REDIS_URL: setting(
    z
      .string()
      .regex(/^rediss?:\/\//, 'expected redis://host:port')
      .optional(),
    '`redis://host:port`',
    'unset: local Redis on `REDIS_PORT`',
  ),
  REDIS_PORT: setting(env.port(6379), 'port of the local Redis'),
  CLICKHOUSE_URL: setting(env.url(), '`http(s)://user:pass@host:8123/db` of a ClickHouse server or cluster', 'unset: embedded chDB'),
  TOPIC_PARTITIONS: setting(
    env.int(6, 1, 10_000),
    'partitions of topics that `stack up`/`provision` creates (existing topics keep theirs): at most this many instances of a service share the work; each partition costs the broker and every consumer per request, so one instance per service on a small machine runs cheaper on 2 (see *Benchmarks*)',
  ),
  PS_DATA_DIR: setting(env.optionalString(), 'data, logs and pid files of the local stack, chDB data', '`.data` in the repository'),
  PS_CACHE_DIR: setting(env.optionalString(), 'downloaded Kafka jars, the built registry binary, the Compose CLI', '`~/.cache/profile-stream`'),
};

export interface Connections {
  dataDir: string;
  cacheDir: string;
  partitions: number;
  kafka: { brokers: string[]; local: boolean; port: number; controllerPort: number };
  registry: { url: string; local: boolean; port: number; postgresPort: number };
  redis: { url: string; local: boolean; port: number };
  clickhouse: { url: string | undefined; local: boolean; dataDir: string };
}

export function loadConnections(e: Env): Connections {
  const c = parseSettings(CONNECTION_SETTINGS, e);
  const brokers = c.KAFKA_BROKERS?.split(',').map((b) => b.trim());
  const dataDir = c.PS_DATA_DIR === undefined ? resolve(REPO_ROOT, '.data') : resolve(c.PS_DATA_DIR);
  return {
    dataDir,
    cacheDir: c.PS_CACHE_DIR === undefined ? resolve(homedir(), '.cache', 'profile-stream') : resolve(c.PS_CACHE_DIR),
    partitions: c.TOPIC_PARTITIONS,
    kafka: {
      brokers: brokers ?? [`127.0.0.1:${c.KAFKA_PORT}`],
      local: !brokers,
      port: c.KAFKA_PORT,
      controllerPort: c.KAFKA_CONTROLLER_PORT,
    },
    registry: {
      url: c.SCHEMA_REGISTRY_URL ?? `http://127.0.0.1:${c.SCHEMA_REGISTRY_PORT}`,
      local: !c.SCHEMA_REGISTRY_URL,
      port: c.SCHEMA_REGISTRY_PORT,
      postgresPort: c.REGISTRY_POSTGRES_PORT,
    },
    redis: { url: c.REDIS_URL ?? `redis://127.0.0.1:${c.REDIS_PORT}`, local: !c.REDIS_URL, port: c.REDIS_PORT },
    clickhouse: { url: c.CLICKHOUSE_URL, local: !c.CLICKHOUSE_URL, dataDir: resolve(dataDir, 'chdb') },
  };
}
