import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isProducerStateError } from './producer.ts';

test('producer-state errors (answered by replacing the producer and resending) are told from others', () => {
  for (const type of ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']) {
    assert.equal(isProducerStateError(Object.assign(new Error(type), { type })), true, type);
  }
  assert.equal(isProducerStateError(Object.assign(new Error('x'), { type: 'NOT_LEADER_OR_FOLLOWER' })), false);
  assert.equal(isProducerStateError(new Error('plain')), false);
  assert.equal(isProducerStateError(undefined), false);
});
