/**
 * The schema registry: AxonOps Schema Registry (Confluent REST API, real compatibility checks), built once
 * from its Go module into the cache, storing schemas in a PostgreSQL of its own (Debian's postgresql),
 * so schema ids survive restarts just as the Kafka data that refers to them does.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { componentFiles, type Component, type ComponentContext } from './component.ts';
import { run, spawnDetached } from './proc.ts';
import { ensureDebian, postgresBinDir, requireTool } from './tools.ts';

export const REGISTRY_MODULE = 'github.com/axonops/axonops-schema-registry';
export const REGISTRY_VERSION = 'v0.2.1';
const DB = 'schemaregistry';

export function registryComponent(ctx: ComponentContext): Component {
  const { conn, log } = ctx;
  const binary = join(conn.cacheDir, 'bin', `schema-registry-${REGISTRY_VERSION}`);
  const files = componentFiles(ctx, 'schema-registry');
  return {
    name: 'schema-registry',
    port: conn.registry.local ? conn.registry.port : undefined,
    managed: true,
    external: !conn.registry.local,
    ...files,
    async fetch() {
      if (existsSync(binary)) return;
      requireTool('go', 'building the schema registry', 'install Go 1.26+ (https://go.dev/doc/install)');
      log.info({ module: REGISTRY_MODULE, version: REGISTRY_VERSION }, 'building the schema registry from its Go module (once, a few minutes)');
      const info = JSON.parse(run('go', ['mod', 'download', '-json', `${REGISTRY_MODULE}@${REGISTRY_VERSION}`], { cwd: conn.cacheDir })) as { Dir: string };
      const src = join(conn.cacheDir, 'src', `schema-registry-${REGISTRY_VERSION}`);
      rmSync(src, { recursive: true, force: true });
      cpSync(info.Dir, src, { recursive: true });
      run('chmod', ['-R', 'u+w', src]);
      mkdirSync(join(conn.cacheDir, 'bin'), { recursive: true });
      run('go', ['build', '-trimpath', '-ldflags', '-s -w', '-o', `${binary}.tmp`, './cmd/schema-registry'], { cwd: src, env: { GOFLAGS: '-mod=mod' } });
      run('mv', [`${binary}.tmp`, binary]);
      chmodSync(binary, 0o755);
    },
    async start() {
      spawnDetached({
        command: binary,
        args: [],
        ...files,
        env: {
          SCHEMA_REGISTRY_HOST: '127.0.0.1',
          SCHEMA_REGISTRY_PORT: String(conn.registry.port),
          SCHEMA_REGISTRY_STORAGE_TYPE: 'postgresql',
          SCHEMA_REGISTRY_PG_HOST: '127.0.0.1',
          SCHEMA_REGISTRY_PG_PORT: String(conn.registry.postgresPort),
          SCHEMA_REGISTRY_PG_DATABASE: DB,
          SCHEMA_REGISTRY_PG_USER: DB,
          SCHEMA_REGISTRY_PG_PASSWORD: DB,
          SCHEMA_REGISTRY_PG_SSLMODE: 'disable',
          SCHEMA_REGISTRY_COMPATIBILITY_LEVEL: 'BACKWARD',
          SCHEMA_REGISTRY_LOG_LEVEL: 'info',
        },
      });
    },
    async ready() {
      const res = await fetch(`${conn.registry.url}/subjects`, { signal: AbortSignal.timeout(2000) });
      return res.ok;
    },
    version: () => (conn.registry.local ? `AxonOps Schema Registry ${REGISTRY_VERSION}` : 'external'),
  };
}

/** The registry's own PostgreSQL (used by nothing else). Root cannot run PostgreSQL, so it runs as `postgres`. */
export function registryDbComponent(ctx: ComponentContext): Component {
  const { conn, log } = ctx;
  const dataDir = join(conn.dataDir, 'registry-postgres');
  const files = componentFiles(ctx, 'registry-postgres');
  const asUser = process.getuid?.() === 0 ? 'postgres' : undefined;
  const port = String(conn.registry.postgresPort);
  const bin = () => postgresBinDir() ?? '';
  const pg = (tool: string, args: string[]) => (asUser ? run('runuser', ['-u', asUser, '--', join(bin(), tool), ...args]) : run(join(bin(), tool), args));
  const psql = (sql: string) =>
    run(join(bin(), 'psql'), ['-h', '127.0.0.1', '-p', port, '-U', DB, '-d', 'postgres', '-tAc', sql], { env: { PGPASSWORD: DB } }).trim();
  return {
    name: 'registry-postgres',
    port: conn.registry.local ? conn.registry.postgresPort : undefined,
    managed: true,
    external: !conn.registry.local,
    ...files,
    async fetch() {
      ensureDebian(
        ['postgresql'],
        () => postgresBinDir() !== undefined,
        'the schema registry storage',
        (m) => log.info(m),
      );
    },
    async start() {
      if (!existsSync(join(dataDir, 'PG_VERSION'))) {
        mkdirSync(dataDir, { recursive: true });
        if (asUser) run('chown', ['-R', `${asUser}:${asUser}`, dataDir]);
        const pw = join(ctx.runDir, 'registry-pg-pw'); // readable by the postgres user, unlike ~/.cache
        writeFileSync(pw, `${DB}\n`, { mode: 0o644 });
        pg('initdb', ['-D', dataDir, '-U', DB, '--auth=md5', `--pwfile=${pw}`, '-E', 'UTF8', '--locale=C']);
        rmSync(pw);
        log.info({ dataDir }, 'initialised the registry database');
      }
      const args = [
        '-D',
        dataDir,
        '-p',
        port,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'shared_buffers=64MB',
        '-c',
        'max_connections=50',
      ];
      // setpriv execs in place (no forking wrapper), so the pid file names postgres itself.
      if (asUser)
        spawnDetached({ command: 'setpriv', args: ['--reuid=postgres', '--regid=postgres', '--init-groups', join(bin(), 'postgres'), ...args], ...files });
      else spawnDetached({ command: join(bin(), 'postgres'), args, ...files });
    },
    async ready() {
      if (psql(`SELECT 1 FROM pg_database WHERE datname = '${DB}'`) !== '1') psql(`CREATE DATABASE ${DB}`);
      return true;
    },
    version: () => (bin() ? run(join(bin(), 'postgres'), ['--version']).trim() : 'PostgreSQL (not installed)'),
  };
}
