/**
 * Lua scripts as typed functions on an ioredis client: the one way a script is declared in this codebase (the
 * profile store, the identity index, the segmenter's membership store and its shard leases). A script is registered
 * once per client (EVALSHA, falling back to EVAL when the server lost its script cache) and called with its keys and
 * arguments.
 *
 * A script with a `prelude` (definitions it runs on: tables, local functions) is a Redis Function where the server has
 * them (7.0+): a library named after the script and a hash of its code, whose prelude runs once when the library is
 * loaded instead of on every call. The library is loaded by the first call of each client (FUNCTION LOAD REPLACE:
 * idempotent, and two versions of the code have two libraries), and again when the server answers that the function
 * is missing (a restart without persistence, FUNCTION FLUSH). Loading leaves the script's other versions alone: two
 * versions running at once (a rolling deploy) each keep their own library. Dropping the others on load made them evict
 * each other, and a call that found its function gone twice failed ("Function not found" under bench api). A stale
 * version is a few KB of server memory until FUNCTION DELETE or FUNCTION FLUSH. A server without functions gets prelude +
 * body by EVALSHA.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export type ScriptCall<R> = (keys: readonly string[], args: readonly (string | number)[]) => Promise<R>;

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * `numberOfKeys`: how many keys every call passes (checked), or 'variable' for a script whose number of keys depends
 * on the call (the count is then sent with each call).
 */
export function scriptCommand<R>(redis: Redis, name: string, lua: string, numberOfKeys: number | 'variable', o: { prelude?: string } = {}): ScriptCall<R> {
  const fixed = numberOfKeys === 'variable' ? undefined : numberOfKeys;
  const check = (keys: readonly string[]) => {
    if (fixed !== undefined && keys.length !== fixed) throw new Error(`${name} takes ${fixed} keys, got ${keys.length}`);
  };
  const evaluated = evalCommand<R>(redis, name, o.prelude === undefined ? lua : `${o.prelude}\n${lua}`, fixed);
  if (o.prelude === undefined) {
    return (keys, args) => {
      check(keys);
      return evaluated(keys, args);
    };
  }
  const library = `ps_${name}_${createHash('sha1').update(o.prelude).update('\0').update(lua).digest('hex').slice(0, 16)}`;
  const code = `#!lua name=${library}\n${o.prelude}\nredis.register_function('${library}', function(KEYS, ARGV)\n${lua}\nend)\n`;
  /** Per client: loading (or loaded), or 'eval' when the server has no functions. */
  let mode: Promise<'function' | 'eval'> | undefined;
  const load = () =>
    redis.call('FUNCTION', 'LOAD', 'REPLACE', code).then(
      () => 'function' as const,
      (err: unknown) => {
        if (/unknown command|unknown subcommand/i.test(errorText(err))) return 'eval' as const;
        mode = undefined; // a transient failure: the next call tries again
        throw err;
      },
    );
  const fcall = (keys: readonly string[], args: readonly (string | number)[]) => redis.call('FCALL', library, keys.length, ...keys, ...args) as Promise<R>;
  const call = async (keys: readonly string[], args: readonly (string | number)[]): Promise<R> => {
    mode ??= load();
    if ((await mode) === 'eval') return evaluated(keys, args);
    try {
      return await fcall(keys, args);
    } catch (err) {
      if (!/function not found/i.test(errorText(err))) throw err;
      mode = load();
      await mode;
      return fcall(keys, args);
    }
  };
  return (keys, args) => {
    check(keys);
    return call(keys, args);
  };
}

function evalCommand<R>(redis: Redis, name: string, lua: string, fixed: number | undefined): ScriptCall<R> {
  if (!(name in redis)) redis.defineCommand(name, fixed === undefined ? { lua } : { numberOfKeys: fixed, lua });
  const fn = (redis as unknown as Record<string, (...a: unknown[]) => Promise<R>>)[name]!;
  return (keys, args) => (fixed === undefined ? fn.call(redis, keys.length, ...keys, ...args) : fn.call(redis, ...keys, ...args));
}
