import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { ContractError } from './errors.ts';
import { PurchaseSchema } from './generated/index.ts';
import { findTopic, resolveTopics } from './topics.ts';

describe('resolveTopics', () => {
  it('uses the default names, TopicNameStrategy subjects and DLQs for inputs only', () => {
    const topics = resolveTopics();
    assert.deepEqual(topics.purchases, {
      id: 'purchases',
      topic: 'purchases',
      envVar: 'TOPIC_PURCHASES',
      subject: 'purchases-value',
      schema: PurchaseSchema,
      key: 'customer key',
      input: true,
      dlq: 'purchases.dlq',
    });
    assert.equal(topics['profile-changes'].dlq, null);
    assert.deepEqual(
      Object.values(topics)
        .filter((t) => t.input)
        .map((t) => t.id),
      ['clickstream', 'purchases', 'support-tickets', 'loyalty'],
    );
  });

  it('applies env overrides and a prefix to names, subjects and DLQs', () => {
    const topics = resolveTopics({ env: { TOPIC_SUPPORT_TICKETS: 'tickets-v2' }, prefix: 't42.' });
    assert.equal(topics['support-tickets'].topic, 't42.tickets-v2');
    assert.equal(topics['support-tickets'].subject, 't42.tickets-v2-value');
    assert.equal(topics['support-tickets'].dlq, 't42.tickets-v2.dlq');
    assert.equal(topics.clickstream.topic, 't42.clickstream');
  });

  it('rejects an illegal override with invalid_options naming the env var', () => {
    assert.throws(
      () => resolveTopics({ env: { TOPIC_CLICKSTREAM: 'click stream' } }),
      (err: unknown) => {
        assert.ok(err instanceof ContractError);
        assert.equal(err.code, 'invalid_options');
        assert.equal(err.path, 'TOPIC_CLICKSTREAM');
        return true;
      },
    );
    assert.throws(() => resolveTopics({ env: { TOPIC_PURCHASES: 'clickstream' } }), { code: 'invalid_options' });
  });
});

describe('findTopic', () => {
  it('finds by actual name or id, else unknown_topic', () => {
    const topics = resolveTopics({ prefix: 'x-' });
    assert.equal(findTopic(topics, 'x-purchases').id, 'purchases');
    assert.equal(findTopic(topics, 'purchases').topic, 'x-purchases');
    assert.throws(() => findTopic(topics, 'orders'), { code: 'unknown_topic', name: 'ContractError' });
  });
});
