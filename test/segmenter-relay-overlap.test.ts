/**
 * The relay's acknowledgement overlaps the next round's read (relay.ts). Driven on purpose, with a gate in the
 * acknowledgement: the next round has read new entries of a shard whose acknowledgement is then refused (another relay
 * took its lease meanwhile); it must not publish them. And an acknowledgement that fails makes the next round start
 * again from the stored cursors: the entries are published again (same event ids), none lost, every outbox drained.
 * And entries that land in other shards just after XREAD BLOCK woke for one (the segmenter writes a chunk's shards one
 * after another) are published in the same round.
 */
import assert from 'node:assert/strict';
import { afterAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { createKitMetrics, createProducer, type Producer } from '@profile-stream/consumer-kit';
import { createRedis } from '@profile-stream/profile';
import { createSegmenterMetrics, MembershipStore, shardOf, startRelay } from '@profile-stream/segmenter';
import { testEnv, waitUntil } from './support/index.ts';
import { entered, relayLeases } from './support/segments.ts';

const clients: Redis[] = [];
afterAll(() => {
  for (const c of clients) c.disconnect();
});

/** A gate: `hit` settles when the gated call arrives, `open()` lets it go on. */
function gate() {
  let arrived!: () => void;
  let release!: () => void;
  const hit = new Promise<void>((r) => (arrived = r));
  const opened = new Promise<void>((r) => (release = r));
  const pass = async () => {
    arrived();
    await opened;
  };
  return { hit, pass, open: () => release() };
}

async function setup(name: string) {
  const env = await testEnv(name);
  const prefix = `${env.prefix}ps:`;
  const shards = 4;
  const connect = () => {
    const c = createRedis(env.conn.redis.url);
    clients.push(c);
    return c;
  };
  const writer = new MembershipStore(connect(), { prefix, shards });
  const memberships = new MembershipStore(connect(), { prefix, shards });
  const leaseRedis = connect();
  // Two profiles per shard.
  const pids: string[] = [];
  const perShard = new Map<number, number>();
  for (let i = 0; pids.length < 2 * shards; i++) {
    const pid = `overlap-p${i}`;
    const s = shardOf(pid, shards);
    if ((perShard.get(s) ?? 0) < 2) {
      perShard.set(s, (perShard.get(s) ?? 0) + 1);
      pids.push(pid);
    }
  }
  const fill = async (version: number) => {
    for (const pid of pids) await writer.apply(pid, version, null, [entered(`s${version}`)]);
  };
  const leases = await relayLeases(leaseRedis, memberships, shards, env.log);
  const real = createProducer(env.kafka);
  await real.connect();
  // What the relay publishes: the event ids, per send.
  const published: string[] = [];
  const sends: number[] = [];
  const send = real.sendBatch.bind(real);
  real.sendBatch = async (batch) => {
    const r = await send(batch);
    for (const t of batch.topicMessages ?? []) for (const m of t.messages) published.push(String(m.key));
    sends.push((batch.topicMessages ?? []).reduce((n, t) => n + t.messages.length, 0));
    return r;
  };
  const producer: Producer = real;
  const kit = createKitMetrics(`${name}-test`);
  const blocking = new Redis(env.conn.redis.url);
  clients.push(blocking);
  const start = () =>
    startRelay({
      blocking,
      memberships,
      leases,
      registry: env.registry,
      topics: env.topics,
      producer,
      metrics: createSegmenterMetrics(kit.registry),
      log: env.log,
      now: Date.now,
      hops: kit.hops(env.topics['segment-membership-changed'].topic),
      blockMs: 100,
    });
  const outboxes = async () => Promise.all(Array.from({ length: shards }, (_, s) => writer.outbox(s)));
  const close = async () => {
    await leases.stop();
    await real.disconnect();
  };
  return { writer, memberships, leaseRedis, pids, fill, leases, published, sends, start, outboxes, close, shards };
}

test('entries of a shard read while its last acknowledgement was in flight are not published once that acknowledgement is refused', async () => {
  const t = await setup('seg-relay-overlap');
  try {
    const g = gate();
    const acknowledge = t.memberships.acknowledge.bind(t.memberships);
    let calls = 0;
    t.memberships.acknowledge = async (owner, acks) => {
      if (calls++ === 0) await g.pass();
      return acknowledge(owner, acks);
    };
    // Round 2's read waits until the new entries are all written, so that it reads every shard's.
    const filled = gate();
    let reads = 0;
    const readOutbox = t.memberships.readOutbox.bind(t.memberships);
    t.memberships.readOutbox = async (o) => {
      // the rounds' waiting reads (each round's follow-up read without a wait is not gated)
      if (o.blockMs === null) return readOutbox(o);
      if (reads === 1) await filled.pass();
      const r = await readOutbox(o);
      if (r.length > 0) reads++;
      return r;
    };
    await t.fill(1);
    const relay = t.start();
    try {
      await g.hit; // round 1 published its 8 entries; its acknowledgement waits at the gate
      assert.equal(t.published.length, 2 * t.shards);
      // Meanwhile another relay takes shard 1's lease, and every shard gets new entries, which round 2 reads.
      await t.leaseRedis.set(t.memberships.keys.shard(1).lease.relay, 'relay-2', 'PX', 120_000);
      await t.fill(2);
      filled.open();
      await waitUntil('round 2 read the new entries', () => reads >= 2, 10_000);
      g.open(); // round 1's acknowledgement: refused for shard 1
      await waitUntil('the other shards relayed', async () => (await t.outboxes()).every((o, s) => (s === 1 ? true : o.length === 0)));
      await waitUntil('shard 1 given up', () => !t.leases.owned.has(1));
    } finally {
      await relay.stop();
    }
    const shard1 = t.pids.filter((p) => shardOf(p, t.shards) === 1);
    // shard 1: its round-1 entries published (before the lease was lost), its round-2 entries not; all 4 kept
    assert.equal(t.published.filter((k) => shard1.includes(k)).length, 2, 'shard 1 published only in round 1');
    assert.equal((await t.writer.outbox(1)).length, 4, "shard 1's entries stay for its new owner");
    assert.equal(t.published.length, 2 * t.shards + 2 * (t.shards - 1));
  } finally {
    await t.close();
  }
});

test('an acknowledgement that fails while the next round reads: the next round starts again from the stored cursors, nothing lost', async () => {
  const t = await setup('seg-relay-ackfail');
  try {
    const acknowledge = t.memberships.acknowledge.bind(t.memberships);
    let calls = 0;
    t.memberships.acknowledge = async (owner, acks) => {
      if (calls++ === 0) throw new Error('injected: Redis went away during the acknowledgement');
      return acknowledge(owner, acks);
    };
    await t.fill(1);
    const relay = t.start();
    try {
      await waitUntil('round 1 published', () => t.published.length >= 2 * t.shards);
      await t.fill(2);
      await waitUntil('every outbox drained', async () => (await t.outboxes()).every((o) => o.length === 0));
    } finally {
      await relay.stop();
    }
    // every entry published at least once; round 1's again after the failed acknowledgement (same event ids)
    for (const pid of t.pids) assert.ok(t.published.filter((k) => k === pid).length >= 3, `${pid}: round 1 twice and round 2`);
    const cursors = await t.writer.cursors(Array.from({ length: t.shards }, (_, s) => s));
    assert.ok(
      [...cursors.values()].every((c) => c !== '0-0'),
      'every cursor moved',
    );
  } finally {
    await t.close();
  }
});

test("entries written to the other shards just after the relay woke for one shard's are published in the same round", async () => {
  const t = await setup('seg-relay-gather');
  try {
    const readOutbox = t.memberships.readOutbox.bind(t.memberships);
    let woke = false;
    t.memberships.readOutbox = async (o) => {
      const r = await readOutbox(o);
      if (o.blockMs !== null && r.length > 0 && !woke) {
        woke = true;
        // The rest of the chunk lands (every other profile, most in other shards) after the wake, before the round
        // publishes.
        for (const pid of t.pids.slice(1)) await t.writer.apply(pid, 1, null, [entered('s1')]);
      }
      return r;
    };
    const relay = t.start();
    try {
      // One profile's entry first: the blocking read wakes for it.
      await t.writer.apply(t.pids[0]!, 1, null, [entered('s1')]);
      await waitUntil('every outbox drained', async () => (await t.outboxes()).every((o) => o.length === 0));
    } finally {
      await relay.stop();
    }
    assert.ok(woke, 'the blocking read woke with entries');
    assert.deepEqual(t.sends, [t.pids.length], `one send of all ${t.pids.length} entries, not one per shard's arrival`);
    assert.deepEqual([...t.published].sort(), [...t.pids].sort());
  } finally {
    await t.close();
  }
});
