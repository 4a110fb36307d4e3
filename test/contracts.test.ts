/** Avro contracts on the real registry and broker: round trip, framing, and a refused incompatible schema. */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, test } from 'vitest';
import { isContractError, toPlainJson, type ClickEvent } from '@profile-stream/contracts';
import { createProducer, type Producer } from '@profile-stream/consumer-kit';
import { testEnv, type TestEnv } from './support/index.ts';

let env: TestEnv;
let producer: Producer;
beforeAll(async () => {
  env = await testEnv('contracts');
  producer = createProducer(env.kafka);
  await producer.connect();
});
afterAll(async () => {
  await producer.disconnect();
});

const click = {
  event_id: 'evt-1',
  occurred_at: '2026-11-23T10:00:00.000Z',
  anonymous_id: 'anon-1',
  user_id: null,
  email: ' Alice@Example.COM ',
  type: 'product_view',
  device: { type: 'mobile', os: 'iOS', browser: 'Safari' },
  product: { sku: 'SKU-1', category: 'shoes', price_minor: 4999, currency: 'EUR' },
};

test('an event round-trips JSON → Avro (registry) → Kafka → Avro → JSON unchanged', async () => {
  const topic = env.topics.clickstream.topic;
  const bytes = await env.registry.encode(topic, click);
  assert.equal(bytes[0], 0, 'Confluent magic byte');
  const id = bytes.readInt32BE(1);
  assert.equal(id, await env.registry.latestId(env.topics.clickstream.subject));
  await producer.send({ topic, acks: -1, messages: [{ key: 'anon-1', value: bytes }] });

  const consumer = env.kafka.consumer({ groupId: `${env.prefix}rt` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const received = await new Promise<Buffer>((resolve) => {
    void consumer.run({ eachMessage: async ({ message }) => resolve(message.value!) });
  });
  await consumer.disconnect();
  const decoded = await env.registry.decode<ClickEvent>(received, { topic });
  assert.equal(decoded.schemaId, id);
  assert.equal(decoded.value.event_id, 'evt-1');
  assert.equal(decoded.value.occurred_at, Date.parse(click.occurred_at));
  assert.equal(decoded.value.email, ' Alice@Example.COM ', 'contracts do not normalise; stitchers do');
  const json = toPlainJson(env.topics.clickstream.schema, decoded.value) as Record<string, unknown>;
  assert.equal(json.occurred_at, click.occurred_at);
  assert.deepEqual(json.product, click.product);
  assert.equal(json.phone, null);
});

test('the registry refuses a BACKWARD-incompatible schema (a new required field) and accepts a compatible one', async () => {
  const subject = env.topics.purchases.subject;
  const base = env.topics.purchases.schema as unknown as { fields: object[] };
  const post = (schema: object) =>
    fetch(`${env.conn.registry.url}/subjects/${subject}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(schema) }),
    });
  const incompatible = await post({ ...base, fields: [...base.fields, { name: 'loyalty_tier', type: 'string', doc: 'x' }] });
  assert.equal(incompatible.status, 409);
  assert.match(await incompatible.text(), /compatib/i);
  const compatible = await post({ ...base, fields: [...base.fields, { name: 'loyalty_tier', type: ['null', 'string'], default: null, doc: 'x' }] });
  assert.equal(compatible.status, 200);
  const cfg = (await (await fetch(`${env.conn.registry.url}/config/${subject}`)).json()) as { compatibilityLevel: string };
  assert.equal(cfg.compatibilityLevel, 'BACKWARD');
});

test('bytes that are not Confluent-framed Avro, and unknown schema ids, are refused with their codes', async () => {
  await assert.rejects(env.registry.decode(Buffer.from('{"json":true}')), (e) => isContractError(e, 'not_confluent_framed'));
  const unknown = Buffer.from([0, 0x7f, 0xff, 0xff, 0x00, 1, 2]);
  await assert.rejects(env.registry.decode(unknown), (e) => isContractError(e, 'unknown_schema_id'));
  const good = await env.registry.encode(env.topics.clickstream.topic, click);
  const truncated = good.subarray(0, 8);
  await assert.rejects(env.registry.decode(truncated), (e) => isContractError(e, 'avro_decode_failed'));
});

test('a JSON event that does not fit its schema is refused before it reaches Kafka, naming the field', async () => {
  await assert.rejects(
    env.registry.encode(env.topics.clickstream.topic, { ...click, device: { type: 'toaster' } }),
    (e) => isContractError(e, 'invalid_event') && e.path.startsWith('device'),
  );
});
