/** Redis 7 from Debian's redis-server: AOF on (fsync every second), no RDB snapshots, data under the project's data dir. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { componentFiles, type Component, type ComponentContext } from './component.ts';
import { run, spawnDetached, which } from './proc.ts';
import { ensureDebian } from './tools.ts';

export function redisComponent(ctx: ComponentContext): Component {
  const { conn, log } = ctx;
  const dataDir = join(conn.dataDir, 'redis');
  const files = componentFiles(ctx, 'redis');
  return {
    name: 'redis',
    port: conn.redis.local ? conn.redis.port : undefined,
    managed: true,
    external: !conn.redis.local,
    ...files,
    async fetch() {
      ensureDebian(
        ['redis-server'],
        () => which('redis-server') !== undefined,
        'profile storage',
        (m) => log.info(m),
      );
    },
    async start() {
      mkdirSync(dataDir, { recursive: true });
      spawnDetached({
        command: 'redis-server',
        args: [
          '--bind',
          '127.0.0.1',
          '--port',
          String(conn.redis.port),
          '--dir',
          dataDir,
          '--daemonize',
          'no',
          // AOF alone is the durability (fsync every second); RDB snapshots on top of it forked the whole dataset every
          // minute under load (a core busy writing dumps, measured as seconds of pipeline latency in bench segments).
          '--appendonly',
          'yes',
          '--appendfsync',
          'everysec',
          '--save',
          '',
          '--protected-mode',
          'yes',
        ],
        ...files,
      });
    },
    async ready() {
      const r = new Redis(conn.redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
      r.on('error', () => {}); // the probe's failure is its answer
      try {
        await r.connect();
        return (await r.ping()) === 'PONG';
      } finally {
        r.disconnect();
      }
    },
    version: () => (conn.redis.local && which('redis-server') ? run('redis-server', ['--version']).split(' ').slice(0, 3).join(' ') : 'external'),
  };
}
