/**
 * The optional `account` on ClickEvent, Purchase and SupportTicket (issue 15) is a BACKWARD-compatible change, checked
 * through the real registry both ways: a record of an old producer (schema without `account`) read by the new consumer,
 * and a record of a new producer read by a consumer that still has the old schema.
 */
import assert from 'node:assert/strict';
import { beforeAll, describe, test } from 'vitest';
import { avroType, type AvroRecordSchema, type TopicSpec } from '@profile-stream/contracts';
import { testEnv, type TestEnv } from './support/index.ts';

let env: TestEnv;
beforeAll(async () => {
  env = await testEnv('account-contracts');
});

const CT = { 'content-type': 'application/vnd.schemaregistry.v1+json' };
const T = Date.UTC(2026, 10, 23, 10);
const who = { anonymous_id: 'anon-1', user_id: 'u-1', email: null, phone: null };
const account = { account_id: 'acct-1', name: 'Acme Ltd', domain: 'acme.example' };

/** One valid plain-JSON value per input topic (without `account`: what an old producer sends). */
const OLD_VALUES = {
  clickstream: { ...who, event_id: 'c1', occurred_at: T, type: 'page_view', page: { url: 'https://shop.example/', referrer: null, title: null } },
  purchases: { ...who, event_id: 'p1', occurred_at: T, order_id: 'o1', status: 'completed', channel: 'web', currency: 'GBP', total_minor: 1250, items: [] },
  'support-tickets': { ...who, event_id: 't1', occurred_at: T, ticket_id: 'k1', status: 'opened', channel: 'chat', priority: 'urgent' },
} as const;
type InputTopic = keyof typeof OLD_VALUES;

/** The schema as it was before issue 15: the same record without the `account` field. */
function oldSchema(spec: TopicSpec): AvroRecordSchema {
  const schema = spec.schema as AvroRecordSchema;
  assert.ok(
    schema.fields.some((f) => f.name === 'account'),
    `${spec.topic}: the current schema has account`,
  );
  return { ...schema, fields: schema.fields.filter((f) => f.name !== 'account') };
}

async function register(subject: string, schema: object): Promise<Response> {
  return fetch(`${env.conn.registry.url}/subjects/${subject}/versions`, {
    method: 'POST',
    headers: CT,
    body: JSON.stringify({ schema: JSON.stringify(schema) }),
  });
}

async function writerSchema(id: number): Promise<AvroRecordSchema> {
  const res = await fetch(`${env.conn.registry.url}/schemas/ids/${id}`);
  assert.equal(res.status, 200);
  return JSON.parse(((await res.json()) as { schema: string }).schema) as AvroRecordSchema;
}

const frame = (id: number, body: Buffer): Buffer => {
  const header = Buffer.alloc(5);
  header.writeInt32BE(id, 1);
  return Buffer.concat([header, body]);
};

describe.each(Object.keys(OLD_VALUES) as InputTopic[])('%s: account is a BACKWARD-compatible addition', (id) => {
  test('an old producer (its schema registered first) is read by the new consumer: account is null', async () => {
    const spec = env.topics[id];
    const subject = `${env.prefix}old-${id}-value`;
    await fetch(`${env.conn.registry.url}/config/${subject}`, { method: 'PUT', headers: CT, body: JSON.stringify({ compatibility: 'BACKWARD' }) });
    const oldRes = await register(subject, oldSchema(spec));
    assert.equal(oldRes.status, 200, await oldRes.clone().text());
    const oldId = ((await oldRes.json()) as { id: number }).id;
    // the registry itself judges the new schema BACKWARD-compatible with the old one on the same subject
    const newRes = await register(subject, spec.schema);
    assert.equal(newRes.status, 200, await newRes.clone().text());
    const newId = ((await newRes.json()) as { id: number }).id;
    assert.notEqual(newId, oldId);

    const oldType = avroType(oldSchema(spec));
    const bytes = frame(oldId, oldType.toBuffer(fromOldJson(id)));
    const decoded = await env.registry.decode<Record<string, unknown>>(bytes, { topic: spec.topic });
    assert.equal(decoded.schemaId, oldId);
    assert.equal(decoded.value.account, null);
    assert.equal(decoded.value.event_id, OLD_VALUES[id].event_id);
    assert.equal(decoded.value.occurred_at, T);
  });

  test('a new producer (with an account) is read by a consumer that has the old schema: the account is skipped', async () => {
    const spec = env.topics[id];
    const bytes = await env.registry.encode(spec.topic, { ...OLD_VALUES[id], account });
    const id_ = bytes.readInt32BE(1);
    const withAccount = await env.registry.decode<Record<string, unknown>>(bytes, { topic: spec.topic });
    assert.deepEqual(withAccount.value.account, account);

    const reader = avroType(oldSchema(spec));
    const writer = avroType(await writerSchema(id_));
    const old = reader.fromBuffer(bytes.subarray(5), reader.createResolver(writer)) as Record<string, unknown>;
    assert.equal('account' in old, false);
    assert.equal(old.event_id, OLD_VALUES[id].event_id);
    assert.equal(old.occurred_at, T);
    assert.equal(old.user_id, 'u-1');
  });
});

test('an account without account_id does not fit the schema and is refused before Kafka, naming the field', async () => {
  await assert.rejects(
    env.registry.encode(env.topics.purchases.topic, { ...OLD_VALUES.purchases, account: { name: 'Acme Ltd' } }),
    (e: Error & { path?: string }) => typeof e.path === 'string' && e.path.startsWith('account'),
  );
});

/** The old producer's value in avsc's shape: every field present, missing optional ones null. */
function fromOldJson(id: InputTopic): Record<string, unknown> {
  const schema = oldSchema(env.topics[id]);
  const v: Record<string, unknown> = { ...OLD_VALUES[id] };
  for (const f of schema.fields) if (!(f.name in v)) v[f.name] = 'default' in f ? structuredClone(f.default) : null;
  return v;
}

describe('SegmentMembershipChanged.entity (profile | account, default profile) is a BACKWARD-compatible addition', () => {
  const membership = {
    event_id: 'm1',
    profile_id: 'acct-1',
    segment_id: 'key-account',
    segment_version: 1,
    change: 'entered',
    reason: 'rule_matched',
    membership_version: 1,
    occurred_at: T,
    emitted_at: T,
    trigger_event_id: null,
    traits: {},
  };
  const withoutEntity = (spec: TopicSpec): AvroRecordSchema => {
    const schema = spec.schema as AvroRecordSchema;
    assert.ok(schema.fields.some((f) => f.name === 'entity'));
    return { ...schema, fields: schema.fields.filter((f) => f.name !== 'entity') };
  };

  test('an old record (no entity) reads as profile; a value built without entity (the relay) is encoded as profile', async () => {
    const spec = env.topics['segment-membership-changed'];
    const subject = `${env.prefix}old-membership-value`;
    await fetch(`${env.conn.registry.url}/config/${subject}`, { method: 'PUT', headers: CT, body: JSON.stringify({ compatibility: 'BACKWARD' }) });
    const oldRes = await register(subject, withoutEntity(spec));
    assert.equal(oldRes.status, 200, await oldRes.clone().text());
    const oldId = ((await oldRes.json()) as { id: number }).id;
    const newRes = await register(subject, spec.schema);
    assert.equal(newRes.status, 200, await newRes.clone().text());

    const oldType = avroType(withoutEntity(spec));
    const decoded = await env.registry.decode<Record<string, unknown>>(frame(oldId, oldType.toBuffer(membership)), { topic: spec.topic });
    assert.equal(decoded.value.entity, 'profile');
    const trusted = await env.registry.decode<Record<string, unknown>>(await env.registry.encodeTrusted(spec.topic, membership), { topic: spec.topic });
    assert.equal(trusted.value.entity, 'profile');
  });

  test('an account membership is read by a consumer with the old schema (the entity is skipped)', async () => {
    const spec = env.topics['segment-membership-changed'];
    const bytes = await env.registry.encode(spec.topic, { ...membership, entity: 'account' });
    assert.equal((await env.registry.decode<Record<string, unknown>>(bytes, { topic: spec.topic })).value.entity, 'account');
    const reader = avroType(withoutEntity(spec));
    const writer = avroType(await writerSchema(bytes.readInt32BE(1)));
    const old = reader.fromBuffer(bytes.subarray(5), reader.createResolver(writer)) as Record<string, unknown>;
    assert.equal('entity' in old, false);
    assert.equal(old.profile_id, 'acct-1');
    assert.equal(old.segment_id, 'key-account');
  });
});
