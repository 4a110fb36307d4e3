import assert from 'node:assert/strict';
import { test } from 'vitest';
import { ProfileStreamError } from './errors.ts';
import { untimed } from './metrics.ts';
import { ok, type KitMessage } from './outcome.ts';
import { perKey } from './per-key.ts';

const msg = (offset: number, key: string | null): KitMessage => ({
  topic: 't',
  partition: 0,
  offset: String(offset),
  key: key === null ? null : Buffer.from(key),
  value: Buffer.from(String(offset)),
  headers: {},
  timestamp: '0',
});
const ctx = { heartbeat: async () => {}, signal: new AbortController().signal, hops: untimed, defer: () => {} };

test('messages of one key run in offset order, one at a time; different keys overlap', async () => {
  const log: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const handler = perKey(async (m) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    log.push(`start ${m.key} ${m.offset}`);
    await new Promise((r) => setTimeout(r, m.key?.toString() === 'a' ? 5 : 1));
    log.push(`end ${m.key} ${m.offset}`);
    running--;
    return ok();
  });
  const messages = [msg(0, 'a'), msg(1, 'b'), msg(2, 'a'), msg(3, 'b'), msg(4, 'a')];
  const outcomes = await handler(messages, ctx);
  assert.equal(outcomes.length, 5);
  assert.ok(outcomes.every((o) => o.kind === 'ok'));
  const aOrder = log.filter((l) => l.includes(' a ')).map((l) => l.split(' ').slice(0, 3).join(' '));
  assert.deepEqual(aOrder, ['start a 0', 'end a 0', 'start a 2', 'end a 2', 'start a 4', 'end a 4']);
  assert.equal(maxRunning, 2, 'keys a and b ran concurrently');
});

test('a thrown error becomes an outcome: retriable → retry, otherwise dlq with its code', async () => {
  const handler = perKey(async (m) => {
    if (m.offset === '1') throw new ProfileStreamError('dependency_unavailable', 'redis down', { retriable: true });
    if (m.offset === '2') throw new ProfileStreamError('invalid_event', 'bad amount');
    if (m.offset === '3') throw new Error('boom');
    return ok();
  });
  const outcomes = await handler([msg(0, 'x'), msg(1, 'x'), msg(2, 'y'), msg(3, null)], ctx);
  assert.deepEqual(
    outcomes.map((o) => o.kind),
    ['ok', 'retry', 'dlq', 'dlq'],
  );
  assert.deepEqual(outcomes[2], { kind: 'dlq', reason: 'invalid_event', message: 'bad amount' });
  assert.deepEqual(outcomes[3], { kind: 'dlq', reason: 'step_failed', message: 'boom' });
});

test('messages without a key are each their own group (outcomes stay in message order)', async () => {
  const seen: string[] = [];
  const outcomes = await perKey(async (m) => {
    seen.push(m.offset);
    return ok();
  })([msg(5, null), msg(6, null)], ctx);
  assert.equal(outcomes.length, 2);
  assert.deepEqual(seen.sort(), ['5', '6']);
});
