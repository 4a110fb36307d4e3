import assert from 'node:assert/strict';
import { test } from 'vitest';
import { parseAsOf } from './as-of.ts';

test('--as-of: now or absent is the given now; ISO-8601 and epoch ms are read; anything else is invalid_options naming the option', () => {
  assert.equal(parseAsOf(undefined, 1234), 1234);
  assert.equal(parseAsOf('now', 1234), 1234);
  assert.equal(parseAsOf('2011-12-09T12:50:00Z', 0), Date.UTC(2011, 11, 9, 12, 50));
  assert.equal(parseAsOf('1323435000000', 0), 1_323_435_000_000);
  for (const bad of ['yesterday', '2011-13-45', '', '99999999999999999999'])
    assert.throws(
      () => parseAsOf(bad, 0),
      (err: Error & { code?: string }) => err.code === 'invalid_options' && err.message.startsWith('--as-of: ') && err.message.includes(JSON.stringify(bad)),
    );
});
