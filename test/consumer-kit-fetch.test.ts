/**
 * consume-loop's fetch batching (fetchMinBytes / fetchMaxWaitMs, the stitchers' STITCHER_FETCH_MIN_BYTES and
 * STITCHER_FETCH_MAX_WAIT_MS) reaches the broker: on an idle topic, a consumer that asks for more bytes than there are
 * is answered after its wait, so it fetches several times a second; one with the defaults (answered at the first
 * record, else after kafkajs's 5 s) fetches about once in the same time. Counted from kafkajs's FETCH_START events.
 */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, test } from 'vitest';
import { createKitMetrics, createProducer, ok, startConsumer, type ConsumeOptions, type Producer } from '@profile-stream/consumer-kit';
import { testEnv, type TestEnv } from './support/index.ts';

let env: TestEnv;
let producer: Producer; // for dead letters (none here)
beforeAll(async () => {
  env = await testEnv('kit-fetch');
  producer = createProducer(env.kafka);
  await producer.connect();
});
afterAll(async () => {
  await producer.disconnect();
});

/** Fetch requests a consumer with these options sends in `ms` on the idle clickstream topic, once in its group. */
async function fetchesWhileIdle(name: string, o: Pick<ConsumeOptions, 'fetchMinBytes' | 'fetchMaxWaitMs'>, ms: number): Promise<number> {
  const handled: unknown[] = [];
  const running = await startConsumer({
    kafka: env.kafka,
    producer,
    logger: env.log,
    metrics: createKitMetrics(name),
    service: name,
    groupId: `${env.prefix}${name}`,
    topics: [env.topics.clickstream.topic],
    handler: async (messages) => {
      handled.push(...messages);
      return messages.map(() => ok());
    },
    ...o,
  } as ConsumeOptions);
  try {
    const deadline = Date.now() + 60_000;
    while (!running.healthy() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(running.healthy(), `${name} joined its group`);
    let fetches = 0;
    const off = running.consumer.on(running.consumer.events.FETCH_START, () => {
      fetches++;
    });
    await new Promise((r) => setTimeout(r, ms));
    off();
    assert.equal(handled.length, 0, 'the topic stayed idle');
    return fetches;
  } finally {
    await running.stop();
  }
}

test('a consumer asking for more bytes than the topic has is answered after its wait; the default waits 5 s', async () => {
  const batching = await fetchesWhileIdle('batching', { fetchMinBytes: 1 << 20, fetchMaxWaitMs: 200 }, 3000);
  const plain = await fetchesWhileIdle('plain', {}, 3000);
  // ~15 fetches of 200 ms in 3 s, against at most one 5-second fetch ending and the next starting
  assert.ok(batching >= 8, `batching: ${batching} fetches in 3 s`);
  assert.ok(plain <= 2, `defaults: ${plain} fetches in 3 s`);
});
