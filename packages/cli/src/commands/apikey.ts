/**
 * `apikey create|list|revoke`: the profile API's bearer keys, stored hashed in Redis under REDIS_PREFIX. `create`
 * prints the key once (it is never stored); `list` shows ids, names and scopes, never a key.
 */
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { ApiKeyStore, parseScopes, SCOPES } from '@profile-stream/api/keys';
import { ProfileStreamError } from '@profile-stream/consumer-kit';
import { cliContext } from '../context.ts';
import { formatTable } from '../table.ts';

async function withKeys<T>(run: (keys: ApiKeyStore) => Promise<T>): Promise<T> {
  const ctx = cliContext('apikey');
  const redis = new Redis(ctx.conn.redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect().catch((err: unknown) => {
      throw new ProfileStreamError('dependency_unavailable', `redis at ${ctx.conn.redis.url}: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    });
    return await run(new ApiKeyStore({ redis, prefix: ctx.redisPrefix }));
  } finally {
    redis.disconnect();
  }
}

export function registerApiKey(program: Command): void {
  const cmd = program.command('apikey').description('API keys of the profile API: create, list, revoke');
  cmd
    .command('create')
    .description('make a key (printed once: store it now)')
    .requiredOption('--scopes <list>', `comma-separated: ${SCOPES.join(', ')}`)
    .option('--name <name>', 'who or what the key is for', '')
    .option('--json', 'print {"id", "key", "scopes"}')
    .action(async (opts: { scopes: string; name: string; json?: boolean }) => {
      const scopes = parseScopes(opts.scopes);
      const k = await withKeys((keys) => keys.create({ scopes, name: opts.name }));
      if (opts.json) process.stdout.write(`${JSON.stringify({ id: k.id, key: k.key, scopes: k.scopes })}\n`);
      else process.stdout.write(`${k.key}\n\nid ${k.id}, scopes ${k.scopes.join(', ')}: the key is shown this once; keep it secret.\n`);
    });
  cmd
    .command('list')
    .description('ids, names, scopes and creation times (never the keys)')
    .option('--json', 'JSON lines')
    .action(async (opts: { json?: boolean }) => {
      const list = await withKeys((keys) => keys.list());
      const rows = list.map((k) => ({ id: k.id, name: k.name, scopes: k.scopes.join(','), created_at: new Date(k.createdAt).toISOString() }));
      if (opts.json) process.stdout.write(rows.map((r) => `${JSON.stringify({ ...r, scopes: r.scopes.split(',') })}\n`).join(''));
      else process.stdout.write(rows.length === 0 ? 'no API keys\n' : formatTable(rows));
    });
  cmd
    .command('revoke')
    .description('revoke a key by its id: the API refuses it within PROFILE_API_KEY_CACHE_SECONDS')
    .argument('<id>', 'the key id (from `apikey list`)')
    .action(async (id: string) => {
      if (!(await withKeys((keys) => keys.revoke(id)))) {
        process.stderr.write(`no API key ${id}\n`);
        process.exitCode = 4;
        return;
      }
      process.stdout.write(`revoked ${id}\n`);
    });
}
