/**
 * Bad input to a stitcher: each kind lands in the DLQ with its reason code, a metric counts it, the partition
 * moves on (the good event after them is folded). An event far older than the de-duplication window (an app syncing
 * offline history) is applied, and its redelivery is not: the window is measured on arrival.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { afterAll, beforeAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { createProducer, readDeadLetter } from '@profile-stream/consumer-kit';
import { ProfileStore } from '@profile-stream/profile';
import { testEnv, waitUntil, type TestEnv } from './support/index.ts';
import { startService, stopService, waitCommitted } from './support/pipeline.ts';

const DAY = 86_400_000;
let env: TestEnv;
let redis: Redis;
beforeAll(async () => {
  env = await testEnv('badin');
  redis = new Redis(env.conn.redis.url);
});
afterAll(() => redis.disconnect());

const now = Date.now();
const purchase = (id: string, over: Record<string, unknown>) => ({
  event_id: id,
  occurred_at: now - DAY,
  user_id: 'u-bad',
  email: null,
  phone: null,
  anonymous_id: null,
  order_id: `o-${id}`,
  status: 'completed',
  channel: 'web',
  currency: 'EUR',
  total_minor: 1000,
  items: [{ sku: 'S', category: null, quantity: 1, unit_price_minor: 1000 }],
  ...over,
});

test('each kind of bad purchase goes to purchases.dlq with its reason; the good ones are folded', async () => {
  const topic = env.topics.purchases.topic;
  const events = [
    purchase('good-1', {}),
    purchase('neg-amount', { total_minor: -5 }),
    purchase('neg-qty', { items: [{ sku: 'S', category: null, quantity: -1, unit_price_minor: 1000 }] }),
    purchase('bad-cur', { currency: 'EURO' }),
    purchase('fake-cur', { currency: 'ABC' }),
    purchase('future', { occurred_at: now + 30 * DAY }),
    purchase('junk-only', { user_id: 'unknown', email: 'test@test.com' }),
    purchase('offline', { occurred_at: now - 200 * DAY }),
    purchase('good-2', { total_minor: 500, items: [] }),
    purchase('offline', { occurred_at: now - 200 * DAY }), // redelivered
  ];
  const producer = createProducer(env.kafka);
  await producer.connect();
  // One key, one partition: the good event after the bad ones proves the partition moved on.
  for (const e of events) await producer.send({ topic, acks: -1, messages: [{ key: 'u-bad', value: await env.registry.encode(topic, e) }] });
  await producer.send({ topic, acks: -1, messages: [{ key: 'u-bad', value: Buffer.from('{"not":"avro"}') }] });
  await producer.disconnect();

  const svcEnv = {
    ...env.childEnv,
    REDIS_PREFIX: `${env.prefix}ps:`,
    STITCHER_GROUP_ID: `${env.prefix}p`,
    STITCHER_OPS_PORT: '0',
    PROFILE_DEDUP_WINDOW_DAYS: '90',
  };
  const svc = startService(svcEnv, 'purchases');
  try {
    await waitCommitted(env.kafka, `${env.prefix}p`, topic);
    const dead = new Map<string, string>();
    const consumer = env.kafka.consumer({ groupId: `${env.prefix}dlq` });
    await consumer.connect();
    await consumer.subscribe({ topic: env.topics.purchases.dlq!, fromBeginning: true });
    void consumer.run({
      eachMessage: async ({ message }) => {
        const dl = readDeadLetter(message.headers as Record<string, Buffer>)!;
        let id = 'raw';
        try {
          id = (await env.registry.decode<{ event_id: string }>(message.value!)).value.event_id;
        } catch {
          /* the raw one */
        }
        dead.set(id, dl.reason);
      },
    });
    await waitUntil('7 dead letters', () => dead.size === 7 || undefined);
    await consumer.disconnect();
    assert.deepEqual(Object.fromEntries([...dead].sort()), {
      'bad-cur': 'invalid_currency',
      'fake-cur': 'invalid_currency',
      future: 'future_timestamp',
      'junk-only': 'no_identifier',
      'neg-amount': 'negative_amount',
      'neg-qty': 'negative_quantity',
      raw: 'not_confluent_framed',
    });
    const store = new ProfileStore({ redis, prefix: `${env.prefix}ps:`, windowMs: 90 * DAY });
    const pid = await store.owner('user_id', 'u-bad');
    const p = await store.read(pid!);
    const orders = (p!.doc.transactions as { orders: Record<string, unknown> }).orders;
    assert.deepEqual(Object.keys(orders).sort(), ['o-good-1', 'o-good-2', 'o-offline']);
    assert.deepEqual((p!.doc.transactions as { revenue_minor: unknown }).revenue_minor, { EUR: 2500 }, 'the redelivered offline order counts once');
  } finally {
    assert.equal(await stopService(svc), 0, svc.stderr());
  }
});

test('a bad stitcher setting stops the start with one line naming the variable', async () => {
  const svc = startService({ ...env.childEnv, PROFILE_DEFAULT_REGION: 'Britain' }, 'clickstream');
  const [code] = (await once(svc.child, 'exit')) as [number];
  assert.notEqual(code, 0);
  assert.match(svc.stderr(), /PROFILE_DEFAULT_REGION: expected an ISO 3166-1 alpha-2 region/);
});
