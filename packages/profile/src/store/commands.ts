/**
 * Lua scripts as typed functions on an ioredis client: registered once per client (EVALSHA, falling back to EVAL
 * when the server lost its script cache), called with their keys and arguments.
 */
import type { Redis } from 'ioredis';

export type ScriptCall<R> = (keys: readonly string[], args: readonly (string | number)[]) => Promise<R>;

export function scriptCommand<R>(redis: Redis, name: string, lua: string, numberOfKeys: number): ScriptCall<R> {
  if (!(name in redis)) redis.defineCommand(name, { numberOfKeys, lua });
  const fn = (redis as unknown as Record<string, (...a: unknown[]) => Promise<R>>)[name]!;
  return (keys, args) => {
    if (keys.length !== numberOfKeys) throw new Error(`${name} takes ${numberOfKeys} keys, got ${keys.length}`);
    return fn.call(redis, ...keys, ...args);
  };
}
