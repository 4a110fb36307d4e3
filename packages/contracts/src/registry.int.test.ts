// ContractsRegistry against the real schema registry of the local stack (each run under its own topic prefix).
// Covers option validation, registration with BACKWARD, encode/decode and the error codes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, it } from 'vitest';
import { ContractError } from './errors.ts';
import type { ContractErrorCode } from './errors.ts';
import type { ClickEvent } from './generated/index.ts';
import { ContractsRegistry } from './registry.ts';
import { resolveTopics } from './topics.ts';

/** The real registry that `./profile-stream test` brings up (SCHEMA_REGISTRY_URL overrides). */
const REGISTRY_URL = process.env.SCHEMA_REGISTRY_URL ?? `http://127.0.0.1:${process.env.SCHEMA_REGISTRY_PORT ?? 8081}`;
const PREFIX = `t-unit-${randomBytes(3).toString('hex')}.`;

async function registerRaw(subject: string, schema: object): Promise<number> {
  const res = await fetch(`${REGISTRY_URL}/subjects/${subject}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify(schema) }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { id: number }).id;
}

function rejectsWith(code: ContractErrorCode, message?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ContractError, `expected ContractError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  };
}

const click = { event_id: 'e1', occurred_at: '2024-05-01T12:00:00Z', anonymous_id: 'a1', type: 'page_view', page: { url: 'https://x.test/' } };

describe('ContractsRegistry', () => {
  let registry: ContractsRegistry;
  let clickId: number;
  beforeAll(() => {
    registry = new ContractsRegistry({ host: REGISTRY_URL, topics: resolveTopics({ prefix: PREFIX }), retry: { retries: 0 } });
  });

  it('validates options eagerly, naming the option', () => {
    for (const host of [undefined, '', 'localhost:8081', 'ftp://registry']) {
      assert.throws(
        () => new ContractsRegistry({ host } as never),
        (err: unknown) => {
          assert.ok(err instanceof ContractError);
          assert.equal(err.code, 'invalid_options');
          assert.equal(err.path, 'host');
          return true;
        },
      );
    }
    assert.throws(() => new ContractsRegistry({ host: 'http://r', auth: { username: 'u' } as never }), { code: 'invalid_options', path: 'auth' });
  });

  it('registerAll sets BACKWARD on every <topic>-value subject and returns the ids', async () => {
    const registered = await registry.registerAll();
    assert.equal(registered.length, 8);
    assert.equal(registered[0]!.topic, `${PREFIX}clickstream`);
    assert.equal(registered[0]!.subject, `${PREFIX}clickstream-value`);
    clickId = registered[0]!.id;
    for (const { subject } of registered) {
      const cfg = (await (await fetch(`${REGISTRY_URL}/config/${subject}`)).json()) as { compatibilityLevel: string };
      assert.equal(cfg.compatibilityLevel, 'BACKWARD');
    }
  });

  it('encodes plain JSON as Confluent-framed Avro and decodes it back', async () => {
    const bytes = await registry.encode(`${PREFIX}clickstream`, click);
    assert.equal(bytes[0], 0);
    assert.equal(bytes.readInt32BE(1), clickId);
    const decoded = await registry.decode<ClickEvent>(bytes);
    assert.equal(decoded.schemaId, clickId);
    assert.equal(decoded.subject, `${PREFIX}clickstream-value`);
    assert.equal(decoded.value.occurred_at, Date.parse(click.occurred_at));
    assert.deepEqual(decoded.value.page, { url: 'https://x.test/', referrer: null, title: null });
    assert.equal(Object.getPrototypeOf(decoded.value), Object.prototype);
  });

  it('decodes with a fresh client (schema fetched by id) and into a topic reader schema', async () => {
    const bytes = await registry.encode('clickstream', click); // topic id works as well as the name
    const fresh = new ContractsRegistry({ host: REGISTRY_URL, retry: { retries: 0 } });
    const decoded = await fresh.decode(bytes);
    assert.equal(decoded.subject, undefined);
    assert.equal(decoded.value.event_id, 'e1');
    const read = await fresh.decode(bytes, { topic: 'clickstream' });
    assert.equal(read.value.anonymous_id, 'a1');
  });

  it("fetches a schema once for many encodes waiting on its first fetch (a stitcher's first chunk)", async () => {
    await registry.encode('clickstream', click); // registered, its latest id known
    const fresh = new ContractsRegistry({ host: REGISTRY_URL, topics: resolveTopics({ prefix: PREFIX }), retry: { retries: 0 } });
    // the registry client's request for a schema by id, counted (its own cache fills only once a fetch is answered)
    const client = (fresh as unknown as { client: { getSchemaOriginRequest(id: number): Promise<unknown> } }).client;
    const original = client.getSchemaOriginRequest.bind(client);
    let fetched = 0;
    client.getSchemaOriginRequest = (id) => {
      fetched++;
      return original(id);
    };
    const all = await Promise.all(Array.from({ length: 200 }, (_, i) => fresh.encode('clickstream', { ...click, event_id: `e${i}` })));
    assert.equal(all.length, 200);
    assert.equal((await fresh.decode<ClickEvent>(all[199]!)).value.event_id, 'e199');
    assert.equal(fetched, 1);
  });

  it('invalid_event: encode validates before talking to the registry', async () => {
    await assert.rejects(registry.encode(`${PREFIX}clickstream`, { ...click, type: 'tap' }), rejectsWith('invalid_event', /type: expected one of/));
  });

  it('invalid_event: encodeTrusted names the fields that do not fit the schema; what fits decodes back', async () => {
    const topic = `${PREFIX}clickstream`;
    const value = { ...(await registry.decodeRaw<Record<string, unknown>>(await registry.encode(topic, click), { topic })).value };
    await assert.rejects(registry.encodeTrusted(topic, { ...value, type: 'tap' }), rejectsWith('invalid_event', /clickstream-value \(id \d+\) at type/));
    const again = await registry.decode(await registry.encodeTrusted(topic, value), { topic });
    assert.equal((again.value as { event_id: string }).event_id, click.event_id);
  });

  it('unknown_topic: encode to a topic outside the table', async () => {
    await assert.rejects(registry.encode('orders', click), rejectsWith('unknown_topic'));
  });

  it('not_confluent_framed: short buffers and a wrong magic byte', async () => {
    await assert.rejects(registry.decode(Buffer.from([0, 0, 1])), rejectsWith('not_confluent_framed'));
    await assert.rejects(registry.decode(Buffer.from('{"event_id":"e1"}')), rejectsWith('not_confluent_framed'));
  });

  it('unknown_schema_id: a frame naming an id the registry does not have', async () => {
    await assert.rejects(registry.decode(Buffer.from([0, 0x7f, 0xff, 0x30, 0x39, 2])), rejectsWith('unknown_schema_id', /2147430457/));
  });

  it('avro_decode_failed: a body that does not decode, or cannot be read as the topic schema', async () => {
    const truncated = (await registry.encode(`${PREFIX}clickstream`, click)).subarray(0, 12);
    await assert.rejects(registry.decode(truncated), rejectsWith('avro_decode_failed', new RegExp(`schema id ${clickId}`)));
    const otherId = await registerRaw(`${PREFIX}elsewhere-value`, { type: 'record', name: 'Other', fields: [{ name: 'n', type: 'int' }] });
    const other = Buffer.alloc(6);
    other.writeUInt8(0, 0);
    other.writeInt32BE(otherId, 1);
    other.writeUInt8(2, 5);
    assert.deepEqual((await registry.decode(other)).value, { n: 1 });
    await assert.rejects(registry.decode(other, { topic: 'clickstream' }), rejectsWith('avro_decode_failed', /cannot be read as/));
  });

  it('registry_error: an unreachable registry is retriable (consumers wait instead of dead-lettering)', async () => {
    const down = new ContractsRegistry({ host: 'http://127.0.0.1:9', retry: { retries: 0 } });
    await assert.rejects(down.registerAll(), (err: unknown) => err instanceof ContractError && err.code === 'registry_error' && err.retriable);
  });
});
