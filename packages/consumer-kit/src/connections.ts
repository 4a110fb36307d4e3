/**
 * Where the pipeline's parts are. Each part is local (started by `profile-stream stack up` on the
 * given port) unless its URL variable points elsewhere.
 */
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { env, parseEnv, type Env } from './config.ts';

/** The repository root (where package.json with the workspaces lives). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

const schema = z.object({
  PS_DATA_DIR: env.string(resolve(REPO_ROOT, '.data')),
  PS_CACHE_DIR: env.string(resolve(homedir(), '.cache', 'profile-stream')),
  KAFKA_PORT: env.port(9092),
  KAFKA_CONTROLLER_PORT: env.port(9093),
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^\s:,]+:\d{1,5}(,\s*[^\s:,]+:\d{1,5})*$/, 'expected host:port[,host:port...]')
    .optional(),
  SCHEMA_REGISTRY_PORT: env.port(8081),
  SCHEMA_REGISTRY_URL: env.url(),
  REGISTRY_POSTGRES_PORT: env.port(5433),
  REDIS_PORT: env.port(6379),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'expected redis://host:port').optional(),
  CLICKHOUSE_URL: env.url(),
  TOPIC_PARTITIONS: env.int(6, 1, 10_000),
});

export interface Connections {
  dataDir: string;
  cacheDir: string;
  partitions: number;
  kafka: { brokers: string[]; local: boolean; port: number; controllerPort: number };
  registry: { url: string; local: boolean; port: number; postgresPort: number };
  redis: { url: string; local: boolean; port: number };
  clickhouse: { url: string | undefined; local: boolean; dataDir: string };
}

export function loadConnections(e: Env = process.env): Connections {
  const c = parseEnv(schema, e);
  const brokers = c.KAFKA_BROKERS?.split(',').map((b) => b.trim());
  return {
    dataDir: resolve(c.PS_DATA_DIR),
    cacheDir: resolve(c.PS_CACHE_DIR),
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
    clickhouse: { url: c.CLICKHOUSE_URL, local: !c.CLICKHOUSE_URL, dataDir: resolve(c.PS_DATA_DIR, 'chdb') },
  };
}
