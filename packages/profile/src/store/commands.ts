/**
 * Lua scripts as typed functions on an ioredis client: the one way a script is declared in this codebase (the
 * profile store, the identity index, the segmenter's membership store and its shard leases). A script is registered
 * once per client (EVALSHA, falling back to EVAL when the server lost its script cache) and called with its keys and
 * arguments.
 */
import type { Redis } from 'ioredis';

export type ScriptCall<R> = (keys: readonly string[], args: readonly (string | number)[]) => Promise<R>;

/**
 * `numberOfKeys`: how many keys every call passes (checked), or 'variable' for a script whose number of keys depends
 * on the call (the count is then sent with each call).
 */
export function scriptCommand<R>(redis: Redis, name: string, lua: string, numberOfKeys: number | 'variable'): ScriptCall<R> {
  const fixed = numberOfKeys === 'variable' ? undefined : numberOfKeys;
  if (!(name in redis)) redis.defineCommand(name, fixed === undefined ? { lua } : { numberOfKeys: fixed, lua });
  const fn = (redis as unknown as Record<string, (...a: unknown[]) => Promise<R>>)[name]!;
  return (keys, args) => {
    if (fixed === undefined) return fn.call(redis, keys.length, ...keys, ...args);
    if (keys.length !== fixed) throw new Error(`${name} takes ${fixed} keys, got ${keys.length}`);
    return fn.call(redis, ...keys, ...args);
  };
}
