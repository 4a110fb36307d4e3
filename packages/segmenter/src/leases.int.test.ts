/**
 * Shard leases on the real Redis, seen through a proxy that holds every reply back (a loaded machine, where a Redis
 * reply waits hundreds of ms to be read): an alive owner keeps all its shards, none lapses even for a moment.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { createLogger } from '@profile-stream/consumer-kit';
import { ShardLeases } from './leases.ts';

const url = new URL(process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? 6379}`);
const clients: Redis[] = [];
const servers: Server[] = [];
const sockets: Socket[] = [];
afterAll(() => {
  for (const c of clients) c.disconnect();
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

/** A TCP proxy to Redis that delivers every reply `delayMs` late (in order): each round trip takes at least that. */
async function slowRedis(delayMs: number): Promise<string> {
  const server = createServer((client) => {
    const upstream = connect(Number(url.port || 6379), url.hostname);
    sockets.push(client, upstream);
    client.on('data', (b) => upstream.write(b));
    upstream.on('data', (b) => setTimeout(() => client.writable && client.write(b), delayMs));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `redis://127.0.0.1:${(server.address() as { port: number }).port}`;
}

test('an alive owner keeps every shard while each Redis round trip takes 300 ms (TTL 2 s, 16 shards)', async () => {
  const shards = 16;
  const ttlMs = 2000;
  const prefix = `t-lease-${randomBytes(4).toString('hex')}:`;
  const slow = new Redis(await slowRedis(300));
  const direct = new Redis(url.toString());
  clients.push(slow, direct);
  const logged = new PassThrough();
  const lines: string[] = [];
  logged.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
  const leases = new ShardLeases(slow, {
    key: (s) => `${prefix}${s}`,
    shards,
    owner: 'me',
    ttlMs,
    log: createLogger({ name: 'test-leases', level: 'warn', destination: logged }),
    name: 'relay',
  });
  await leases.start();
  try {
    assert.equal(leases.owned.size, shards, 'all shards taken at start');
    // Three TTLs: every lease key must exist (owned by "me") at every look, and the owner must never drop a shard.
    const keys = Array.from({ length: shards }, (_, s) => `${prefix}${s}`);
    const until = Date.now() + 3 * ttlMs;
    let looks = 0;
    while (Date.now() < until) {
      const owners = await direct.mget(...keys);
      assert.deepEqual(
        owners.flatMap((o, s) => (o === 'me' ? [] : [s])),
        [],
        `shards whose lease lapsed (look ${looks})`,
      );
      assert.equal(leases.owned.size, shards, `shards the owner dropped (look ${looks}): ${lines.join(' | ')}`);
      looks++;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(looks > 20, `looked ${looks} times`);
    assert.deepEqual(lines, [], 'no lease warnings');
  } finally {
    await leases.stop();
  }
  assert.deepEqual(await direct.exists(...Array.from({ length: shards }, (_, s) => `${prefix}${s}`)), 0, 'released at stop');
});

test('a shard another owner holds is not taken; one held by another and then free is taken, with a new tenure', async () => {
  const prefix = `t-lease-${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(url.toString());
  clients.push(redis);
  await redis.set(`${prefix}1`, 'other', 'PX', 60_000);
  const leases = new ShardLeases(redis, {
    key: (s) => `${prefix}${s}`,
    shards: 3,
    owner: 'me',
    ttlMs: 60_000,
    log: createLogger({ name: 't', level: 'silent' }),
    name: 'relay',
  });
  await leases.refresh();
  assert.deepEqual([...leases.owned].sort(), [0, 2]);
  const before = leases.tenure(0);
  // Shard 0 lapses and another owner takes it: the next refresh drops it.
  await redis.set(`${prefix}0`, 'other', 'PX', 60_000);
  await redis.del(`${prefix}1`);
  await leases.refresh();
  assert.deepEqual([...leases.owned].sort(), [1, 2]);
  // The other owner goes away: shard 0 is taken again, in a new tenure (a worker reloads what it kept of it).
  await redis.del(`${prefix}0`);
  await leases.refresh();
  assert.deepEqual([...leases.owned].sort(), [0, 1, 2]);
  assert.notEqual(leases.tenure(0), before);
  await leases.stop();
  assert.equal(await redis.exists(`${prefix}0`, `${prefix}1`, `${prefix}2`), 0);
});
