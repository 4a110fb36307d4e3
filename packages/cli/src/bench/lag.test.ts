import assert from 'node:assert/strict';
import { test } from 'vitest';
import { slopePerSecond } from './lag.ts';

test('the lag trend is the least-squares slope per sample (a second each)', () => {
  assert.equal(slopePerSecond([5, 5, 5, 5]), 0);
  assert.equal(slopePerSecond([0, 100, 200, 300]), 100);
  assert.ok(Math.abs(slopePerSecond([10, 30, 10, 30, 10, 30]) - 30 / 17.5) < 1e-9, 'a sawtooth barely grows');
  assert.equal(slopePerSecond([7]), 0, 'one sample has no trend');
});
