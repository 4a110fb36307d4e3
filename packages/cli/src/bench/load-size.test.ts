/** bench segments' load size: six customers per purchase, refused up front past the generator's customer limit. */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { generate } from '@profile-stream/generator';
import { checkLoadSize, GENERATOR_MAX_CUSTOMERS, loadCustomers } from './load-size.ts';

test('a generated day of six customers per purchase holds the purchases asked for', () => {
  for (const total of [500, 3_000]) {
    let purchases = 0;
    const customers = loadCustomers(total);
    for (const r of generate({ seed: 7, customers, days: 1, start: Date.now() - 86_400_000, malformedRate: 0, junkRate: 0, duplicateRate: 0 })) {
      if (r.topic === 'purchases' && !('malformed' in r)) purchases++;
      if (purchases === total) break;
    }
    assert.equal(purchases, total, `${customers} customers`);
  }
});

test('rates × seconds past the generator are refused naming the options and the longest run; within it, accepted', () => {
  assert.equal(loadCustomers(166_666) <= GENERATOR_MAX_CUSTOMERS, true);
  checkLoadSize([1000, 2000, 5000], 30, 5);
  assert.throws(
    () => checkLoadSize([1000, 5000], 60, 5),
    (e: Error & { code?: string }) =>
      e.code === 'invalid_options' && /^--seconds 60 at 5000\/s needs more than the generator's 1,000,000 customers .*at most 33 s at 5000\/s$/.test(e.message),
  );
  // the warm-up runs at the first rate: a long warm-up is refused too
  assert.throws(() => checkLoadSize([5000], 10, 40), /at most 33 s at 5000\/s/);
});
