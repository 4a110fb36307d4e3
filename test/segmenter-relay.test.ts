/**
 * The segmenter's relay on the real stack: a round over all its shards is acknowledged in ONE Redis request (the
 * cursors it starts from are read in one too), after Kafka acknowledged the round's publish; and a shard whose lease
 * another relay took meanwhile keeps its cursor and its entries (published again by the new owner, never lost).
 */
import assert from 'node:assert/strict';
import { afterAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { createKitMetrics, createProducer } from '@profile-stream/consumer-kit';
import { createRedis } from '@profile-stream/profile';
import { countWrites } from '@profile-stream/profile/testing';
import { createSegmenterMetrics, MembershipStore, shardOf, startRelay } from '@profile-stream/segmenter';
import { testEnv, waitUntil } from './support/index.ts';
import { entered, relayLeases } from './support/segments.ts';

const clients: Redis[] = [];
afterAll(() => {
  for (const c of clients) c.disconnect();
});

test('a relay round over 16 shards: cursors read in one request, acknowledged in one; a shard whose lease was taken keeps its cursor', async () => {
  const env = await testEnv('seg-relay');
  const prefix = `${env.prefix}ps:`;
  const shards = 16;
  const connect = () => {
    const c = createRedis(env.conn.redis.url); // as the service makes its connections (auto-pipelined)
    clients.push(c);
    return c;
  };
  // The test writes and looks through its own connection; the relay's store has one of its own, its requests counted.
  const writer = new MembershipStore(connect(), { prefix, shards });
  const relayRedis = connect();
  const memberships = new MembershipStore(relayRedis, { prefix, shards });
  const leaseRedis = connect();
  // Three profiles in every shard, each entering two segments: six outbox entries per shard.
  const pids = new Map<number, string[]>();
  for (let i = 0; [...pids.values()].reduce((a, l) => a + l.length, 0) < 3 * shards; i++) {
    const pid = `relay-p${i}`;
    const list = pids.get(shardOf(pid, shards)) ?? [];
    if (list.length < 3) pids.set(shardOf(pid, shards), [...list, pid]);
  }
  const fill = async (version: number) => {
    for (const list of pids.values()) for (const pid of list) await writer.apply(pid, version, null, [entered(`a${version}`), entered(`b${version}`)]);
  };
  const leases = await relayLeases(leaseRedis, memberships, shards, env.log);
  assert.equal(leases.owned.size, shards);
  const producer = createProducer(env.kafka);
  await producer.connect();
  const kit = createKitMetrics('segmenter-relay-test');
  const metrics = createSegmenterMetrics(kit.registry);
  const rounds = async () => {
    const m = (await kit.hopSeconds.get()).values.find((v) => v.metricName === 'ps_hop_seconds_count' && v.labels.hop === 'relay_cycle');
    return m?.value ?? 0;
  };
  const run = async (what: string, until: () => Promise<boolean>) => {
    const blocking = new Redis(env.conn.redis.url); // XREAD BLOCK holds a connection
    clients.push(blocking);
    const writes = await countWrites(relayRedis);
    const before = await rounds();
    const relay = startRelay({
      blocking,
      memberships,
      leases,
      registry: env.registry,
      topics: env.topics,
      producer,
      metrics,
      log: env.log,
      now: Date.now,
      hops: kit.hops(env.topics['segment-membership-changed'].topic),
      blockMs: 100,
    });
    try {
      await waitUntil(what, until, 30_000);
    } finally {
      await relay.stop();
    }
    return { writes: writes.n, rounds: (await rounds()) - before };
  };
  const outboxes = async () => Promise.all(Array.from({ length: shards }, (_, s) => writer.outbox(s)));

  try {
    await fill(1);
    const first = await run('every shard relayed', async () => (await outboxes()).every((o) => o.length === 0));
    assert.equal(first.rounds, 1, 'all 96 entries in one round (one read of every shard)');
    assert.equal(first.writes, 2, 'requests of the relay: the 16 cursors read in one, the round acknowledged in one');
    const cursors = await writer.cursors(Array.from({ length: shards }, (_, s) => s));
    assert.ok(
      [...cursors.values()].every((c) => c !== '0-0'),
      'every cursor moved',
    );

    // Another relay took shard 3's lease while this one still counts it as its own (its next renewal is far off).
    await leaseRedis.set(memberships.keys.shard(3).lease.relay, 'relay-2', 'PX', 120_000);
    await fill(2);
    const kept = (await writer.outbox(3)).map((e) => e.id);
    assert.equal(kept.length, 6);
    const second = await run(
      'the shards still owned relayed',
      async () => (await outboxes()).every((o, s) => (s === 3 ? o.length === 6 : o.length === 0)) && !leases.owned.has(3),
    );
    assert.equal(second.rounds, 1);
    assert.equal(second.writes, 2, 'cursors read in one request, the round acknowledged in one');
    assert.deepEqual(
      (await writer.outbox(3)).map((e) => e.id),
      kept,
      "shard 3's entries stay for its owner",
    );
    assert.equal((await writer.cursors([3])).get(3), cursors.get(3), "shard 3's cursor did not move");
    assert.deepEqual(
      [...leases.owned].sort((a, b) => a - b),
      Array.from({ length: shards }, (_, s) => s).filter((s) => s !== 3),
    );
  } finally {
    await leases.stop();
    await producer.disconnect();
  }
});
