import assert from 'node:assert/strict';
import { test } from 'vitest';
import { DLQ_HEADERS, dlqTopicOf, readDeadLetter, replayHeaders, toDlqRecord } from './dlq.ts';

test('a dead letter keeps key, bytes and original headers, and says why and where from', () => {
  const m = { topic: 'purchases', partition: 3, offset: '1234', key: Buffer.from('k'), value: Buffer.from([1, 2, 3]), headers: { trace: 'x' }, timestamp: '0' };
  const r = toDlqRecord(m, 'invalid_event', 'currency: not ISO 4217', 'purchases-stitcher', new Date('2026-11-23T10:00:00Z'));
  assert.equal(dlqTopicOf('purchases'), 'purchases.dlq');
  assert.equal(r.key, m.key);
  assert.equal(r.value, m.value);
  assert.equal(r.headers.trace, 'x');
  assert.equal(r.headers[DLQ_HEADERS.reason], 'invalid_event');
  const back = readDeadLetter(Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Buffer.from(v)])));
  assert.deepEqual(back, {
    reason: 'invalid_event',
    message: 'currency: not ISO 4217',
    sourceTopic: 'purchases',
    sourcePartition: 3,
    sourceOffset: '1234',
    service: 'purchases-stitcher',
    time: '2026-11-23T10:00:00.000Z',
  });
  const replay = replayHeaders(r.headers);
  assert.equal(replay.trace, 'x');
  assert.equal(replay['ps-replayed-from-dlq'], 'true');
  assert.ok(!Object.keys(replay).some((k) => k.startsWith('ps-dlq-')));
});

test('a record without DLQ headers is not a dead letter; a second trip through the DLQ keeps only the latest reason', () => {
  assert.equal(readDeadLetter({ trace: 'x' }), undefined);
  const m = { topic: 't', partition: 0, offset: '1', key: null, value: null, headers: { [DLQ_HEADERS.reason]: 'old' }, timestamp: '0' };
  assert.equal(toDlqRecord(m, 'new', 'm', 's').headers[DLQ_HEADERS.reason], 'new');
});

test('long messages are cut to keep headers small', () => {
  const m = { topic: 't', partition: 0, offset: '1', key: null, value: null, headers: {}, timestamp: '0' };
  assert.equal((toDlqRecord(m, 'r', 'x'.repeat(10_000), 's').headers[DLQ_HEADERS.message] as string).length, 2000);
});
