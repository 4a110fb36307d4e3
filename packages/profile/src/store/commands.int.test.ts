/** scriptCommand on the real Redis: a script with a prelude runs as a Redis Function, loaded once, reloaded when lost. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { scriptCommand } from './commands.ts';

const url = process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? 6379}`;
const redis = new Redis(url);
const name = `tScript${randomBytes(3).toString('hex')}`;
const libraries = async () =>
  ((await redis.call('FUNCTION', 'LIST', 'LIBRARYNAME', `ps_${name}_*`)) as unknown[][]).map((f) => String(f[f.indexOf('library_name') + 1])).sort();
afterAll(async () => {
  for (const l of await libraries()) await redis.call('FUNCTION', 'DELETE', l);
  redis.disconnect();
});

// The prelude builds a table at load time; the body reads it through an upvalue and writes its key.
const prelude = (word: string) => `local WORDS = { greeting = '${word}' }\nlocal function greet(who) return WORDS.greeting .. ', ' .. who end`;
const body = `redis.call('SET', KEYS[1], greet(ARGV[1]))\nreturn redis.call('GET', KEYS[1])`;

test('a script with a prelude is a Redis Function of its own version: called with keys and arguments, reloaded when the server lost it', async () => {
  const key = `t-cmd-${randomBytes(3).toString('hex')}`;
  const hello = scriptCommand<string>(redis, name, body, 1, { prelude: prelude('hello') });
  assert.equal(await hello([key], ['ada']), 'hello, ada');
  assert.equal(await redis.get(key), 'hello, ada', 'the function wrote its key');
  const [loaded] = await libraries();
  assert.match(loaded!, new RegExp(`^ps_${name}_[0-9a-f]{16}$`));
  // What this client sends (the server's command counters are shared with every other test running meanwhile).
  const sent: string[] = [];
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
    sent.push(command.name.toLowerCase());
    return (send as (...a: unknown[]) => unknown)(command, ...rest);
  }) as typeof redis.sendCommand;
  assert.equal(await hello([key], ['bob']), 'hello, bob');
  redis.sendCommand = send;
  assert.deepEqual(sent, ['fcall'], 'one FCALL per call once loaded');

  await redis.call('FUNCTION', 'DELETE', loaded!); // as after a restart without persistence
  assert.equal(await hello([key], ['cy']), 'hello, cy');
  assert.deepEqual(await libraries(), [loaded]);

  // A new version of the script is a new library beside the old one: two versions running at once (a rolling deploy)
  // never evict each other, whatever the interleaving of their calls.
  const bonjour = scriptCommand<string>(redis, name, body, 1, { prelude: prelude('bonjour') });
  assert.equal(await bonjour([key], ['dee']), 'bonjour, dee');
  assert.equal((await libraries()).length, 2);
  const both = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? hello : bonjour)([`${key}-${i}`], [`n${i}`])));
  assert.deepEqual(
    both,
    Array.from({ length: 40 }, (_, i) => `${i % 2 === 0 ? 'hello' : 'bonjour'}, n${i}`),
  );
  assert.equal((await libraries()).length, 2);
  await redis.del(...Array.from({ length: 40 }, (_, i) => `${key}-${i}`));
  await redis.del(key);
  assert.throws(() => hello([key, key], ['x']), /takes 1 keys, got 2/);
});
