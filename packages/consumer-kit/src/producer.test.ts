import assert from 'node:assert/strict';
import { test } from 'vitest';
import type { RecordMetadata } from 'kafkajs';
import { coalescing, splitBatch } from './producer.ts';

test('splitBatch keeps order, stays under the byte budget per request, and never drops a record', () => {
  const msg = (i: number, bytes: number) => ({ key: `k${i}`, value: Buffer.alloc(bytes, 1) });
  const a = Array.from({ length: 10 }, (_, i) => msg(i, 300));
  const b = Array.from({ length: 5 }, (_, i) => msg(100 + i, 300));
  const parts = splitBatch(
    [
      { topic: 'a', messages: a },
      { topic: 'b', messages: b },
    ],
    1000,
  );
  for (const p of parts) {
    const bytes = p.flatMap((tm) => tm.messages).reduce((s, m) => s + 64 + String(m.key).length + (m.value as Buffer).length, 0);
    assert.ok(bytes <= 1000, `a request of ${bytes} bytes`);
  }
  const flat = parts.flatMap((p) => p.flatMap((tm) => tm.messages.map((m) => `${tm.topic}/${String(m.key)}`)));
  assert.deepEqual(flat, [...a.map((m) => `a/${m.key}`), ...b.map((m) => `b/${m.key}`)]);
  const big = splitBatch([{ topic: 'a', messages: [msg(1, 5000), msg(2, 10)] }], 1000);
  assert.deepEqual(
    big.map((p) => p[0]!.messages.map((m) => m.key)),
    [['k1'], ['k2']],
    'an oversized record goes alone',
  );
});

test('sends that arrive while a request is in flight go together as the next request, in the order asked', async () => {
  const requests: { topics: string[]; keys: string[]; acks: number | undefined }[] = [];
  let release!: () => void;
  const send = coalescing(async (tms, acks) => {
    requests.push({ topics: tms.map((tm) => tm.topic), keys: tms.flatMap((tm) => tm.messages.map((m) => String(m.key))), acks });
    if (requests.length === 1) await new Promise<void>((r) => (release = r));
    return tms.map((tm): RecordMetadata => ({ topicName: tm.topic, partition: 0, errorCode: 0 }));
  });
  const m = (k: string) => ({ key: k, value: 'v' });
  const first = send([{ topic: 'a', messages: [m('1')] }], -1);
  const second = send(
    [
      { topic: 'a', messages: [m('2')] },
      { topic: 'b', messages: [m('3')] },
    ],
    -1,
  );
  const third = send([{ topic: 'a', messages: [m('4')] }], -1);
  const other = send([{ topic: 'dlq', messages: [m('5')] }], 1);
  release();
  const [, meta2, meta3] = await Promise.all([first, second, third, other]);
  assert.deepEqual(requests, [
    { topics: ['a'], keys: ['1'], acks: -1 },
    { topics: ['a', 'b'], keys: ['2', '4', '3'], acks: -1 },
    { topics: ['dlq'], keys: ['5'], acks: 1 },
  ]);
  assert.deepEqual(meta2.map((x) => x.topicName).sort(), ['a', 'b'], "each caller gets its own topics' metadata");
  assert.deepEqual(
    meta3.map((x) => x.topicName),
    ['a'],
  );
});

test('a coalesced request that fails fails every send in it, and the next sends go on', async () => {
  let calls = 0;
  let release!: () => void;
  const send = coalescing(async (tms) => {
    calls++;
    if (calls === 1) await new Promise<void>((r) => (release = r));
    if (calls === 2) throw new Error('not enough replicas');
    return tms.map((tm): RecordMetadata => ({ topicName: tm.topic, partition: 0, errorCode: 0 }));
  });
  const m = { key: 'k', value: 'v' };
  const first = send([{ topic: 'a', messages: [m] }], -1);
  const x = send([{ topic: 'a', messages: [m] }], -1);
  const y = send([{ topic: 'b', messages: [m] }], -1);
  release();
  await first;
  await assert.rejects(x, /not enough replicas/);
  await assert.rejects(y, /not enough replicas/);
  assert.equal((await send([{ topic: 'a', messages: [m] }], -1)).length, 1);
});
