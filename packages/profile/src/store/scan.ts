/** Every key matching a SCAN pattern (one node: on Redis Cluster, call it per master). */
import type { Redis } from 'ioredis';

export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}

/** A literal key part as a SCAN pattern (escapes the glob characters * ? [ ] \). */
export const globEscape = (s: string): string => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
