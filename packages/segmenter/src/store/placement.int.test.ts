/**
 * The shard count a deployment's memberships are placed with, on the real Redis: recorded at the first contact,
 * another count refused naming SEGMENTER_SHARDS; with Redis not answering at the start, checked once it answers,
 * the store's writes waiting for the check (and refused, retriably, when the count differs).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { ConfigError, createLogger, isRetriable } from '@profile-stream/consumer-kit';
import { codeOf } from '@profile-stream/contracts/errors';
import { createRedis } from '@profile-stream/profile';
import { segmentKeys } from './keys.ts';
import { checkShardsAtStart, recordShards } from './placement.ts';
import type { Decision } from './records.ts';
import { MembershipStore } from './store.ts';

const url = new URL(process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? 6379}`);
const redis = new Redis(url.toString());
const log = createLogger({ name: 'placement-test', level: 'silent' });
const clients: Redis[] = [redis];
const servers: Server[] = [];
const sockets: Socket[] = [];
afterAll(() => {
  for (const c of clients) c.disconnect();
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

const enter: Decision = { segment: 'seg-a', definitionVersion: 1, member: true, reason: 'rule_matched', occurredAt: 1, nextChangeAt: null, traits: {} };
const newPrefix = () => `t-placement-${randomBytes(4).toString('hex')}:`;

/** A port nothing listens on yet, and how to open it later as a proxy to the real Redis. */
async function laterRedis(): Promise<{ url: string; open(): Promise<void> }> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  return {
    url: `redis://127.0.0.1:${port}`,
    async open() {
      const server = createServer((client) => {
        const upstream = connect(Number(url.port || 6379), url.hostname);
        sockets.push(client, upstream);
        client.pipe(upstream);
        upstream.pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
      });
      servers.push(server);
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    },
  };
}

/** A Redis that accepts connections and answers nothing until `release()`: then it forwards what it held, and all after. */
async function stalledRedis(): Promise<{ url: string; release(): void }> {
  const held: { client: Socket; chunks: Buffer[] }[] = [];
  let released = false;
  const forward = (h: { client: Socket; chunks: Buffer[] }) => {
    const upstream = connect(Number(url.port || 6379), url.hostname);
    sockets.push(upstream);
    for (const c of h.chunks) upstream.write(c);
    h.client.on('data', (b) => upstream.write(b));
    upstream.pipe(h.client);
    upstream.on('error', () => h.client.destroy());
  };
  const server = createServer((client) => {
    sockets.push(client);
    client.on('error', () => undefined);
    const h = { client, chunks: [] as Buffer[] };
    if (released) return forward(h);
    client.on('data', (b) => {
      if (!released) h.chunks.push(b);
    });
    held.push(h);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `redis://127.0.0.1:${(server.address() as { port: number }).port}`,
    release() {
      released = true;
      for (const h of held) {
        h.client.removeAllListeners('data');
        forward(h);
      }
    },
  };
}

/** A fresh prefix whose count is `recorded` (if given), and a connection to a Redis that answers once `open()`ed. */
async function notAnswering(recorded?: number) {
  const prefix = newPrefix();
  const key = segmentKeys(prefix).shards;
  if (recorded !== undefined) await redis.set(key, String(recorded));
  const later = await laterRedis();
  const conn = createRedis(later.url);
  conn.on('error', () => undefined);
  clients.push(conn);
  return { prefix, key, conn, open: later.open };
}

test('the first contact records the count; the same count passes; another is refused naming SEGMENTER_SHARDS and the recorded count', async () => {
  const key = segmentKeys(newPrefix()).shards;
  await recordShards(redis, key, 4);
  assert.equal(await redis.get(key), '4');
  await recordShards(redis, key, 4);
  const err = await recordShards(redis, key, 16).then(
    () => assert.fail('another count was accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConfigError);
  assert.equal(err.variable, 'SEGMENTER_SHARDS');
  assert.match(err.message, /^SEGMENTER_SHARDS: 16, but this deployment's memberships are placed on 4 shards .*set SEGMENTER_SHARDS=4/);
  assert.equal(await redis.get(key), '4', 'the recorded count is kept');
  // At a start: the mismatch is thrown, not deferred.
  await assert.rejects(checkShardsAtStart({ redis, key, shards: 8, log }), /SEGMENTER_SHARDS: 8, but .* placed on 4 shards/);
});

test('Redis not answering at the start: the start goes on, writes wait for the check, and pass once the count matches', async () => {
  const { prefix, key, conn, open } = await notAnswering(4);
  const check = await checkShardsAtStart({ redis: conn, key, shards: 4, log, retryMs: () => 50, onMismatch: () => assert.fail('no mismatch here') });
  const store = new MembershipStore(conn, { prefix, shards: 4, placed: check.checked });
  let applied = false;
  let listed = false;
  const write = store.apply('p-1', 1, 'e-1', [enter]).then((r) => {
    applied = true;
    return r;
  });
  const listing = store.size('seg-a').then((r) => {
    listed = true;
    return r;
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(applied, false, 'a write went ahead before the shard count was checked');
  assert.equal(listed, false, 'a member list was read before the shard count was checked');
  await open();
  await check.checked;
  const result = await write;
  assert.deepEqual(result, { kind: 'ok', emitted: 1 });
  assert.ok((await listing).members <= 1);
  assert.equal((await store.read('p-1')).segments.get('seg-a')?.member, true);
  check.stop(); // after the check: nothing changes
  await store.apply('p-1', 2, 'e-2', []);
});

test('Redis not answering at the start, another count found once it answers: writes refused (retriable), the mismatch reported', async () => {
  const { prefix, key, conn, open } = await notAnswering(16);
  let reported: ConfigError | undefined;
  const check = await checkShardsAtStart({
    redis: conn,
    key,
    shards: 4,
    log,
    retryMs: () => 50,
    onMismatch: (e) => {
      reported = e;
    },
  });
  const store = new MembershipStore(conn, { prefix, shards: 4, placed: check.checked });
  const write = store.apply('p-1', 1, 'e-1', [enter]).then(
    () => assert.fail('a write went ahead with another shard count'),
    (e: unknown) => e,
  );
  await open();
  const err = await write;
  assert.equal(codeOf(err), 'dependency_unavailable');
  assert.ok(isRetriable(err), 'a refused write is retried, never a dead letter');
  assert.match(String((err as Error).message), /SEGMENTER_SHARDS: 4, but .* placed on 16 shards/);
  assert.equal(reported?.variable, 'SEGMENTER_SHARDS');
  assert.equal(await redis.exists(`${segmentKeys(prefix).shard(0).member('p-1')}`), 0);
});

test('stopped before Redis answers: waiting writes fail retriably, nothing is recorded', async () => {
  const { prefix, key, conn } = await notAnswering();
  const check = await checkShardsAtStart({ redis: conn, key, shards: 4, log, retryMs: () => 50 });
  const store = new MembershipStore(conn, { prefix, shards: 4, placed: check.checked });
  const write = store.retire('p-1', { erased: true }, 1, null).then(
    () => assert.fail('a write went ahead unchecked'),
    (e: unknown) => e,
  );
  check.stop();
  const err = await write;
  assert.equal(codeOf(err), 'dependency_unavailable');
  assert.ok(isRetriable(err));
  assert.equal(await redis.exists(key), 0);
});

test('Redis accepting connections but not answering at the start: the start goes on after firstWaitMs, writes wait, pass once it answers', async () => {
  const prefix = newPrefix();
  const key = segmentKeys(prefix).shards;
  await redis.set(key, '4');
  const stalled = await stalledRedis();
  const conn = createRedis(stalled.url);
  conn.on('error', () => undefined);
  clients.push(conn);
  const t0 = performance.now();
  const check = await checkShardsAtStart({ redis: conn, key, shards: 4, log, firstWaitMs: 200, retryMs: () => 50 });
  const waited = performance.now() - t0;
  assert.ok(waited >= 190 && waited < 2000, `the start waited ${waited} ms`);
  const store = new MembershipStore(conn, { prefix, shards: 4, placed: check.checked });
  let applied = false;
  const write = store.apply('p-1', 1, 'e-1', [enter]).then((r) => {
    applied = true;
    return r;
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(applied, false, 'a write went ahead before the shard count was checked');
  stalled.release();
  await check.checked;
  assert.deepEqual(await write, { kind: 'ok', emitted: 1 });
  check.stop();
});
