import assert from 'node:assert/strict';
import { test } from 'vitest';
import { splitBatch } from './producer.ts';

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
