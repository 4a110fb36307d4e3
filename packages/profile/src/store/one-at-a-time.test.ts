/** OneAtATime: calls for one key in order, one at a time; other keys run alongside; a failure stays its own. */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { OneAtATime } from './one-at-a-time.ts';

const tick = () => new Promise((r) => setImmediate(r));

test('a key runs one call at a time, in order; other keys do not wait; a failure does not stop the next call', async () => {
  const q = new OneAtATime();
  const log: string[] = [];
  const gate = Promise.withResolvers<void>();
  const first = q.run('a', async (waited) => {
    log.push(`a1 start ${waited}`);
    await gate.promise;
    log.push('a1 end');
    throw new Error('a1 failed');
  });
  const second = q.run('a', async (waited) => {
    log.push(`a2 start ${waited}`);
    return 2;
  });
  const other = q.run('b', async (waited) => {
    log.push(`b start ${waited}`);
    return 'b';
  });
  assert.equal(await other, 'b');
  await tick();
  assert.deepEqual(log, ['a1 start false', 'b start false'], 'a2 waits for a1; b does not');
  assert.equal(q.size, 1);
  gate.resolve();
  await assert.rejects(first, /a1 failed/);
  assert.equal(await second, 2);
  assert.deepEqual(log, ['a1 start false', 'b start false', 'a1 end', 'a2 start true']);
  await tick();
  assert.equal(q.size, 0, 'nothing held once every call ended');
});
