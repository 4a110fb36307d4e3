/** consumer-kit on the real broker and registry: dead letters, commits after durable effects, kill -9, drain. */
import assert from 'node:assert/strict';
import { readFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, test } from 'vitest';
import { once } from 'node:events';
import { createProducer, readDeadLetter, REPO_ROOT, type Producer } from '@profile-stream/consumer-kit';
import { spawnTs, testEnv, waitUntil, type TestEnv } from './support/index.ts';

const FIXTURE = resolve(REPO_ROOT, 'test/fixtures/recording-consumer.ts');
let env: TestEnv;
let producer: Producer;
const dir = mkdtempSync(join(tmpdir(), 'ps-kit-'));

beforeAll(async () => {
  env = await testEnv('kit');
  producer = createProducer(env.kafka);
  await producer.connect();
});
afterAll(async () => producer.disconnect());

const click = (id: string, anon: string) => ({ event_id: id, occurred_at: Date.now(), anonymous_id: anon, type: 'page_view' });
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : []);

async function startRecorder(out: string, group: string, extraEnv: NodeJS.ProcessEnv = {}, e: TestEnv = env) {
  const child = spawnTs(FIXTURE, [out, group], { ...e.childEnv, ...extraEnv });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const [first] = (await once(child.stdout, 'data')) as [Buffer];
  assert.match(first.toString(), /"ready":true/, stderr);
  return { child, opsPort: (JSON.parse(first.toString().split('\n')[0]!) as { opsPort: number }).opsPort, stderr: () => stderr };
}

test('garbage lands in the DLQ with reason and source coordinates, and the next good message is processed', async () => {
  const topic = env.topics.clickstream.topic;
  const good1 = await env.registry.encode(topic, click('g-1', 'a1'));
  const good2 = await env.registry.encode(topic, click('g-2', 'a1'));
  // Same key → same partition, so the garbage sits between the two good events.
  await producer.send({
    topic,
    acks: -1,
    messages: [
      { key: 'a1', value: good1 },
      { key: 'a1', value: Buffer.from('this is not avro'), headers: { origin: 'test' } },
      { key: 'a1', value: Buffer.from([0, 0, 0, 0x7f, 0x7f, 1]) },
      { key: 'a1', value: good2 },
    ],
  });
  const out = join(dir, 'dlq.txt');
  const rec = await startRecorder(out, `${env.prefix}dlq`);
  try {
    await waitUntil('both good events recorded', () => lines(out).length === 2 || undefined);
    assert.deepEqual(
      lines(out).map((l) => l.split(':')[2]),
      ['g-1', 'g-2'],
    );

    const dead: { key: string; value: Buffer; dl: ReturnType<typeof readDeadLetter>; headers: Record<string, Buffer | string | undefined> }[] = [];
    const consumer = env.kafka.consumer({ groupId: `${env.prefix}dlq-reader` });
    await consumer.connect();
    await consumer.subscribe({ topic: env.topics.clickstream.dlq!, fromBeginning: true });
    void consumer.run({
      eachMessage: async ({ message }) => {
        const headers = message.headers as Record<string, Buffer | undefined>;
        dead.push({ key: message.key!.toString(), value: message.value!, dl: readDeadLetter(headers), headers });
      },
    });
    await waitUntil('two dead letters', () => dead.length === 2 || undefined);
    await consumer.disconnect();
    const [garbage, unknownId] = dead.sort((a, b) => Number(a.dl!.sourceOffset) - Number(b.dl!.sourceOffset));
    assert.equal(garbage!.dl!.reason, 'not_confluent_framed');
    assert.equal(garbage!.dl!.sourceTopic, topic);
    assert.equal(garbage!.dl!.service, 'recording-consumer');
    assert.equal(garbage!.key, 'a1');
    assert.equal(garbage!.value.toString(), 'this is not avro', 'original bytes kept');
    assert.equal(garbage!.headers.origin?.toString(), 'test', 'original headers kept');
    assert.equal(unknownId!.dl!.reason, 'unknown_schema_id');
    assert.equal(Number(unknownId!.dl!.sourceOffset), Number(garbage!.dl!.sourceOffset) + 1);
    assert.equal(unknownId!.dl!.sourcePartition, garbage!.dl!.sourcePartition);

    const metrics = await (await fetch(`http://127.0.0.1:${rec.opsPort}/metrics`)).text();
    assert.match(metrics, /ps_dead_letters_total\{[^}]*reason="not_confluent_framed"[^}]*\} 1/);
    const health = await fetch(`http://127.0.0.1:${rec.opsPort}/health`);
    assert.equal(health.status, 200);
  } finally {
    rec.child.kill('SIGTERM');
    await once(rec.child, 'exit');
  }
});

test('a consumer killed with SIGKILL before its commit re-processes that batch after restart: nothing lost', async () => {
  const env = await testEnv('kill'); // topics of its own: only this test's events
  const topic = env.topics.clickstream.topic;
  const n = 40;
  const messages = [];
  for (let i = 0; i < n; i++) messages.push({ key: 'k-kill', value: await env.registry.encode(topic, click(`kill-${i}`, 'k-kill')) });
  const out = join(dir, 'kill.txt');
  const group = `${env.prefix}kill`;
  await producer.send({ topic, acks: -1, messages });

  const first = await startRecorder(out, group, { HANG_AFTER: '10', CHUNK_SIZE: '100' }, env);
  await waitUntil('10 events recorded then hung', () => lines(out).filter((l) => l.includes('kill-')).length >= 10 || undefined);
  first.child.kill('SIGKILL');
  await once(first.child, 'exit');
  const beforeRestart = lines(out).filter((l) => l.includes('kill-'));
  assert.equal(beforeRestart.length, 10);

  const second = await startRecorder(out, group, {}, env);
  try {
    await waitUntil(
      'all events recorded after restart',
      () =>
        new Set(
          lines(out)
            .filter((l) => l.includes('kill-'))
            .map((l) => l.split(':')[2]),
        ).size === n || undefined,
    );
    const all = lines(out).filter((l) => l.includes('kill-'));
    // The 10 handled before the kill were never committed, so they came again: at-least-once, in order.
    assert.deepEqual(all.slice(10, 20), beforeRestart);
    const ids = all.slice(10).map((l) => l.split(':')[2]);
    assert.deepEqual(
      ids,
      Array.from({ length: n }, (_, i) => `kill-${i}`),
    );
    const admin = env.kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    await admin.disconnect();
    const lastOffsets = new Map(all.map((l) => [Number(l.split(':')[0]), Number(l.split(':')[1])]));
    await waitUntil('offsets committed past the last event', async () => {
      const admin2 = env.kafka.admin();
      await admin2.connect();
      const o = await admin2.fetchOffsets({ groupId: group, topics: [topic] });
      await admin2.disconnect();
      return [...lastOffsets].every(([p, off]) => Number(o[0]!.partitions.find((x) => x.partition === p)!.offset) === off + 1) || undefined;
    });
    assert.ok(offsets.length === 1);
  } finally {
    second.child.kill('SIGTERM');
    const [code] = await once(second.child, 'exit');
    assert.equal(code, 0, `graceful drain exits 0: ${second.stderr()}`);
  }
});

test('SIGKILL at random points while chunks wait for their deferred effects: no event loses its effect (commits never pass one)', async () => {
  const env = await testEnv('defer');
  const topic = env.topics.clickstream.topic;
  const n = 4000;
  const ids = Array.from({ length: n }, (_, i) => `bg-${i}`);
  for (let i = 0; i < n; i += 500) {
    const batch = await Promise.all(
      ids.slice(i, i + 500).map(async (id, j) => ({ key: `k-${(i + j) % 40}`, value: await env.registry.encode(topic, click(id, `k-${(i + j) % 40}`)) })),
    );
    await producer.send({ topic, acks: -1, messages: batch });
  }
  const out = join(dir, 'defer.txt');
  const group = `${env.prefix}defer`;
  const recordedIds = () => new Set(lines(out).map((l) => l.split(':')[2]));
  // Small chunks whose effects land 0–200 ms late: at any moment several chunks per partition are in the background.
  const settings = { DEFER_MAX_MS: '200', CHUNK_SIZE: '5' };
  const seed = Date.now() % 100_000;
  let state = seed;
  const random = () => {
    state = (state * 48_271) % 2_147_483_647;
    return state / 2_147_483_647;
  };
  const kills: number[] = [];
  for (let round = 0; round < 4; round++) {
    const before = recordedIds().size;
    const rec = await startRecorder(out, group, settings, env);
    const exited = once(rec.child, 'exit');
    try {
      await waitUntil(
        `round ${round} (seed ${seed}) making progress (none: events committed without their effect, never re-delivered)`,
        () => recordedIds().size > before + 50 || undefined,
      );
      await new Promise((r) => setTimeout(r, 100 + random() * 600));
    } finally {
      rec.child.kill('SIGKILL');
      await exited;
    }
    kills.push(recordedIds().size);
  }
  assert.ok(kills.at(-1)! < n, `the kills landed before the end (${kills.join(', ')} of ${n} recorded at each; seed ${seed})`);

  const last = await startRecorder(out, group, settings, env);
  try {
    // A commit that ran ahead of its chunk's effects would leave that chunk's events unrecorded for good.
    await waitUntil(`every event recorded after 4 kills at ${kills.join(', ')} events (seed ${seed})`, () => recordedIds().size === n || undefined, 60_000);
    assert.deepEqual([...recordedIds()].sort(), [...ids].sort());
  } finally {
    last.child.kill('SIGTERM');
    const [code] = await once(last.child, 'exit');
    assert.equal(code, 0, `graceful drain exits 0: ${last.stderr()}`);
  }
  const admin = env.kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    for (const p of ends) {
      assert.equal(
        committed!.partitions.find((x) => x.partition === p.partition)?.offset,
        p.high,
        `partition ${p.partition} committed to its end after the drain`,
      );
    }
  } finally {
    await admin.disconnect();
  }
});
