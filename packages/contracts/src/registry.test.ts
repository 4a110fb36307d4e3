// ContractsRegistry against an in-process fake of the Schema Registry REST API (the real-registry round trip lives
// in the service tests). Covers option validation, registration with BACKWARD, encode/decode and the error codes.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ContractError } from './errors.ts';
import type { ContractErrorCode } from './errors.ts';
import type { ClickEvent } from './generated/index.ts';
import { ContractsRegistry } from './registry.ts';
import { resolveTopics } from './topics.ts';

interface FakeRegistry {
  url: string;
  config: Map<string, string>;
  register(subject: string, schema: string): number;
  close(): Promise<void>;
}

async function startFakeRegistry(): Promise<FakeRegistry> {
  const schemas: string[] = []; // id = index + 1
  const versions = new Map<string, number[]>();
  const config = new Map<string, string>();
  const register = (subject: string, schema: string): number => {
    const id = schemas.includes(schema) ? schemas.indexOf(schema) + 1 : schemas.push(schema);
    versions.set(subject, [...(versions.get(subject) ?? []), id]);
    return id;
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const reply = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(JSON.stringify(json));
      };
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).split('/').slice(1);
      const [root, name, sub, version] = path;
      if (root === 'config' && name !== undefined && req.method === 'PUT') {
        const { compatibility } = JSON.parse(body) as { compatibility: string };
        config.set(name, compatibility);
        return reply(200, { compatibility });
      }
      if (root === 'config' && name !== undefined) {
        const level = config.get(name);
        return level ? reply(200, { compatibilityLevel: level }) : reply(404, { error_code: 40408, message: 'no config' });
      }
      if (root === 'subjects' && name !== undefined && sub === 'versions' && req.method === 'POST') {
        return reply(200, { id: register(name, (JSON.parse(body) as { schema: string }).schema) });
      }
      if (root === 'subjects' && name !== undefined && version === 'latest') {
        const ids = versions.get(name);
        const id = ids?.at(-1);
        if (ids === undefined || id === undefined) return reply(404, { error_code: 40401, message: 'Subject not found' });
        return reply(200, { subject: name, version: ids.length, id, schema: schemas[id - 1] });
      }
      if (root === 'schemas' && name === 'ids' && sub !== undefined) {
        if (sub === '500') return reply(500, { error_code: 50001, message: 'boom' });
        const schema = schemas[Number(sub) - 1];
        return schema ? reply(200, { schema }) : reply(404, { error_code: 40403, message: 'Schema not found' });
      }
      return reply(404, { error_code: 404, message: `no route ${req.method} ${req.url}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, config, register, close: () => new Promise((resolve) => server.close(() => resolve())) };
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
  let fake: FakeRegistry;
  let registry: ContractsRegistry;
  before(async () => {
    fake = await startFakeRegistry();
    registry = new ContractsRegistry({ host: fake.url, topics: resolveTopics({ prefix: 'unit.' }), retry: { retries: 0 } });
  });
  after(() => fake.close());

  it('validates options eagerly, naming the option', () => {
    for (const host of [undefined, '', 'localhost:8081', 'ftp://registry']) {
      assert.throws(() => new ContractsRegistry({ host } as never), (err: unknown) => {
        assert.ok(err instanceof ContractError);
        assert.equal(err.code, 'invalid_options');
        assert.equal(err.path, 'host');
        return true;
      });
    }
    assert.throws(() => new ContractsRegistry({ host: 'http://r', auth: { username: 'u' } as never }), { code: 'invalid_options', path: 'auth' });
  });

  it('registerAll sets BACKWARD on every <topic>-value subject and returns the ids', async () => {
    const registered = await registry.registerAll();
    assert.equal(registered.length, 7);
    assert.deepEqual(registered[0], { topic: 'unit.clickstream', subject: 'unit.clickstream-value', id: 1 });
    for (const { subject } of registered) assert.equal(fake.config.get(subject), 'BACKWARD');
  });

  it('encodes plain JSON as Confluent-framed Avro and decodes it back', async () => {
    const bytes = await registry.encode('unit.clickstream', click);
    assert.equal(bytes[0], 0);
    assert.equal(bytes.readInt32BE(1), 1);
    const decoded = await registry.decode<ClickEvent>(bytes);
    assert.equal(decoded.schemaId, 1);
    assert.equal(decoded.subject, 'unit.clickstream-value');
    assert.equal(decoded.value.occurred_at, Date.parse(click.occurred_at));
    assert.deepEqual(decoded.value.page, { url: 'https://x.test/', referrer: null, title: null });
    assert.equal(Object.getPrototypeOf(decoded.value), Object.prototype);
  });

  it('decodes with a fresh client (schema fetched by id) and into a topic reader schema', async () => {
    const bytes = await registry.encode('clickstream', click); // topic id works as well as the name
    const fresh = new ContractsRegistry({ host: fake.url, retry: { retries: 0 } });
    const decoded = await fresh.decode(bytes);
    assert.equal(decoded.subject, undefined);
    assert.equal(decoded.value['event_id'], 'e1');
    const read = await fresh.decode(bytes, { topic: 'clickstream' });
    assert.equal(read.value['anonymous_id'], 'a1');
  });

  it('invalid_event: encode validates before talking to the registry', async () => {
    await assert.rejects(registry.encode('unit.clickstream', { ...click, type: 'tap' }), rejectsWith('invalid_event', /type: expected one of/));
  });

  it('unknown_topic: encode to a topic outside the table', async () => {
    await assert.rejects(registry.encode('orders', click), rejectsWith('unknown_topic'));
  });

  it('not_confluent_framed: short buffers and a wrong magic byte', async () => {
    await assert.rejects(registry.decode(Buffer.from([0, 0, 1])), rejectsWith('not_confluent_framed'));
    await assert.rejects(registry.decode(Buffer.from('{"event_id":"e1"}')), rejectsWith('not_confluent_framed'));
  });

  it('unknown_schema_id: a frame naming an id the registry does not have', async () => {
    await assert.rejects(registry.decode(Buffer.from([0, 0, 0, 0x30, 0x39, 2])), rejectsWith('unknown_schema_id', /12345/));
  });

  it('avro_decode_failed: a body that does not decode, or cannot be read as the topic schema', async () => {
    const truncated = (await registry.encode('unit.clickstream', click)).subarray(0, 12);
    await assert.rejects(registry.decode(truncated), rejectsWith('avro_decode_failed', /schema id 1/));
    const purchaseId = fake.register('elsewhere-value', JSON.stringify({ type: 'record', name: 'Other', fields: [{ name: 'n', type: 'int' }] }));
    const other = Buffer.from([0, 0, 0, 0, purchaseId, 2]);
    assert.deepEqual((await registry.decode(other)).value, { n: 1 });
    await assert.rejects(registry.decode(other, { topic: 'clickstream' }), rejectsWith('avro_decode_failed', /cannot be read as/));
  });

  it('registry_error: 5xx is retriable, an unreachable registry too', async () => {
    await assert.rejects(registry.decode(Buffer.from([0, 0, 0, 0x01, 0xf4, 2])), (err: unknown) => {
      assert.ok(err instanceof ContractError);
      assert.equal(err.code, 'registry_error');
      assert.equal(err.retriable, true);
      return true;
    });
    const down = new ContractsRegistry({ host: 'http://127.0.0.1:9', retry: { retries: 0 } });
    await assert.rejects(down.registerAll(), (err: unknown) => err instanceof ContractError && err.code === 'registry_error' && err.retriable);
  });
});
