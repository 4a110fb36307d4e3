/**
 * `erase --verify` in Redis: SCAN every key under the prefix (never KEYS) and match its name and its values — strings,
 * hashes, sets, sorted sets, lists and streams — read in pipelined batches, each collection bounded to `maxElements`
 * (a bigger one is reported as partly read).
 */
import type { Redis } from 'ioredis';
import { judge, matchText, type Finding, type Needle, type Needles } from './matchers.ts';

export interface RedisSearch {
  keys: number;
  /** Keys whose values were read only in part (more than maxElements members, or a string over maxBytes). */
  partlyRead: number;
  findings: Finding[];
}

/** A glob pattern that matches `prefix` literally, then anything. */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
}

type Reply = [Error | null, unknown];

/** Flattens a reply of any read command into strings (stream entries: id and fields). */
function flat(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) flat(x, out);
  return out;
}

export async function searchRedis(
  redis: Redis,
  o: { prefix: string; needles: Needles; maxElements?: number; maxBytes?: number; batch?: number },
): Promise<RedisSearch> {
  const maxElements = o.maxElements ?? 10_000;
  const maxBytes = o.maxBytes ?? 1 << 20;
  const out: RedisSearch = { keys: 0, partlyRead: 0, findings: [] };
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', prefixPattern(o.prefix), 'COUNT', o.batch ?? 1000);
    cursor = next;
    if (keys.length === 0) continue;
    out.keys += keys.length;
    const types = ((await redis.pipeline(keys.map((k) => ['type', k])).exec()) ?? []) as Reply[];
    const sizes = ((await redis
      .pipeline(
        keys.map((k, i) => {
          const t = types[i]?.[1];
          if (t === 'string') return ['strlen', k];
          if (t === 'hash') return ['hlen', k];
          if (t === 'set') return ['scard', k];
          if (t === 'zset') return ['zcard', k];
          if (t === 'list') return ['llen', k];
          if (t === 'stream') return ['xlen', k];
          return ['exists', k];
        }),
      )
      .exec()) ?? []) as Reply[];
    const reads = ((await redis
      .pipeline(
        keys.map((k, i) => {
          const t = types[i]?.[1];
          const big = Number(sizes[i]?.[1] ?? 0) > (t === 'string' ? maxBytes : maxElements);
          if (big) out.partlyRead++;
          if (t === 'string') return ['getrange', k, '0', String(maxBytes - 1)];
          if (t === 'hash') return big ? ['hscan', k, '0', 'COUNT', String(maxElements)] : ['hgetall', k];
          if (t === 'set') return big ? ['sscan', k, '0', 'COUNT', String(maxElements)] : ['smembers', k];
          if (t === 'zset') return ['zrange', k, '0', String(maxElements - 1)];
          if (t === 'list') return ['lrange', k, '0', String(maxElements - 1)];
          if (t === 'stream') return ['xrange', k, '-', '+', 'COUNT', String(maxElements)];
          return ['exists', k];
        }),
      )
      .exec()) ?? []) as Reply[];
    keys.forEach((key, i) => {
      const [err, value] = reads[i] ?? [null, null];
      const values = err ? [] : flat(value);
      const hit = new Set<Needle>(matchText(o.needles, key));
      for (const v of values) for (const n of matchText(o.needles, v)) hit.add(n);
      if (hit.size) out.findings.push(judge({ store: 'redis', where: key, place: key, count: 1, needles: [...hit] }, { redisPrefix: o.prefix }));
    });
  } while (cursor !== '0');
  return out;
}
