import assert from 'node:assert/strict';
import { test } from 'vitest';
import { z } from 'zod';
import { env, parseEnv } from './config.ts';
import { loadConnections } from './connections.ts';
import { ConfigError } from './errors.ts';

test('defaults: every part local on its default port', () => {
  const c = loadConnections({});
  assert.deepEqual(c.kafka.brokers, ['127.0.0.1:9092']);
  assert.equal(c.kafka.local, true);
  assert.equal(c.registry.url, 'http://127.0.0.1:8081');
  assert.equal(c.redis.url, 'redis://127.0.0.1:6379');
  assert.equal(c.clickhouse.url, undefined);
  assert.equal(c.clickhouse.local, true);
  assert.equal(c.partitions, 6);
});

test('URL variables make a part external; ports move local parts', () => {
  const c = loadConnections({ KAFKA_BROKERS: 'k1:9092, k2:9093', REDIS_PORT: '7000', CLICKHOUSE_URL: 'http://u:p@ch:8123/db' });
  assert.deepEqual(c.kafka.brokers, ['k1:9092', 'k2:9093']);
  assert.equal(c.kafka.local, false);
  assert.equal(c.redis.url, 'redis://127.0.0.1:7000');
  assert.equal(c.clickhouse.local, false);
});

test('a bad value throws ConfigError naming the variable and what is expected', () => {
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ KAFKA_PORT: 'abc' }, 'KAFKA_PORT', /TCP port/],
    [{ REDIS_PORT: '70000' }, 'REDIS_PORT', /1-65535/],
    [{ SCHEMA_REGISTRY_URL: 'not a url' }, 'SCHEMA_REGISTRY_URL', /URL/],
    [{ KAFKA_BROKERS: 'justahost' }, 'KAFKA_BROKERS', /host:port/],
    [{ TOPIC_PARTITIONS: '-1' }, 'TOPIC_PARTITIONS', /./],
  ];
  for (const [e, variable, message] of cases) {
    assert.throws(
      () => loadConnections(e),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, 'config_invalid');
        assert.equal(err.variable, variable);
        assert.match(err.message, message);
        assert.ok(err.message.startsWith(`${variable}: `));
        return true;
      },
    );
  }
});

test('parseEnv trims values, treats empty as unset and parses booleans', () => {
  const s = z.object({ A: env.int(3), B: env.bool(false), C: env.optionalString() });
  assert.deepEqual(parseEnv(s, { A: ' 5 ', B: 'yes', C: '' }), { A: 5, B: true, C: undefined });
  assert.throws(() => parseEnv(s, { B: 'maybe' }), /B: expected true or false/);
});
