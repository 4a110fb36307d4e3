/** The CLI as a user drives it, on the real stack: produce, consume, dlq list/replay, generate, bad config. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, test } from 'vitest';
import { createProducer, dlqTopicOf, toDlqRecord } from '@profile-stream/consumer-kit';
import { CLI_MAIN, runCli, spawnTs, testEnv, type TestEnv, waitUntil } from './support/index.ts';

let env: TestEnv;
const dir = mkdtempSync(join(tmpdir(), 'ps-cli-'));
beforeAll(async () => {
  env = await testEnv('cli');
});

const purchase = (i: number) => ({
  event_id: `p-${i}`,
  occurred_at: `2026-11-0${1 + (i % 9)}T12:00:00Z`,
  user_id: `u_${i}`,
  email: null,
  phone: null,
  anonymous_id: null,
  order_id: `o-${i}`,
  status: 'completed',
  channel: 'web',
  currency: 'EUR',
  total_minor: 1000 + i,
  items: [{ sku: 'S1', category: 'books', quantity: 1, unit_price_minor: 1000 + i }],
});

test('produce sends the good lines as Avro and reports each bad line with its number and reason', () => {
  const lines = [
    JSON.stringify(purchase(1)),
    '{"event_id": "broken",',
    JSON.stringify({ ...purchase(3), status: 'shipped' }),
    JSON.stringify(purchase(4)),
    JSON.stringify({ ...purchase(5), total_minor: 'lots' }),
    JSON.stringify({ ...purchase(6), loyalty: 'gold' }),
    '',
    JSON.stringify(purchase(8)),
  ];
  const file = join(dir, 'purchases.jsonl');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const r = runCli(['produce', 'purchases', file, '--json'], { env: env.childEnv });
  assert.equal(r.status, 2, r.stderr);
  const report = JSON.parse(r.stdout) as { sent: number; rejected: { line: number; reason: string }[] };
  assert.equal(report.sent, 3);
  assert.deepEqual(
    report.rejected.map((x) => x.line),
    [2, 3, 5, 6],
  );
  assert.match(report.rejected[0]!.reason, /invalid JSON/);
  assert.match(report.rejected[1]!.reason, /invalid_event.*status/);
  assert.match(report.rejected[2]!.reason, /total_minor/);
  assert.match(report.rejected[3]!.reason, /loyalty/);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}:2: invalid JSON`));

  const c = runCli(['consume', 'purchases'], { env: env.childEnv });
  assert.equal(c.status, 0, c.stderr);
  const out = c.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(out.map((e) => e.event_id).sort(), ['p-1', 'p-4', 'p-8']);
  const p4 = out.find((e) => e.event_id === 'p-4')!;
  assert.equal(p4.occurred_at, '2026-11-05T12:00:00.000Z');
  assert.equal(p4.total_minor, 1004);
  assert.deepEqual(p4.items, purchase(4).items);
});

test('consume --meta shows partition, offset, key and schema id; -n limits', () => {
  const c = runCli(['consume', 'purchases', '--meta', '-n', '1'], { env: env.childEnv });
  assert.equal(c.status, 0, c.stderr);
  const lines = c.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const m = JSON.parse(lines[0]!) as { partition: number; offset: string; key: string; schema_id: number; value: { user_id: string } };
  assert.equal(m.key, m.value.user_id, 'purchases are keyed by the customer key');
  assert.ok(m.schema_id > 0);
});

test('dlq list shows reason and source coordinates; dlq replay sends the original bytes back once', async () => {
  const topic = env.topics['support-tickets'].topic;
  const producer = createProducer(env.kafka);
  await producer.connect();
  const original = {
    topic,
    partition: 2,
    offset: '41',
    key: Buffer.from('cust-9'),
    value: Buffer.from('garbage-bytes'),
    headers: { trace: 'abc' },
    timestamp: '0',
  };
  await producer.send({ topic: dlqTopicOf(topic), acks: -1, messages: [toDlqRecord(original, 'not_confluent_framed', 'bad bytes', 'support-tickets')] });
  await producer.disconnect();

  const list = runCli(['dlq', 'list', 'support-tickets', '--json'], { env: env.childEnv });
  assert.equal(list.status, 0, list.stderr);
  const rows = list.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, string>);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.reason, 'not_confluent_framed');
  assert.equal(rows[0]!.source, `${topic}/2@41`);
  assert.equal(rows[0]!.key, 'cust-9');
  assert.equal(rows[0]!.service, 'support-tickets');

  const replay = runCli(['dlq', 'replay', 'support-tickets'], { env: env.childEnv });
  assert.equal(replay.status, 0, replay.stderr);
  assert.match(replay.stdout, /replayed 1 dead letter/);
  const again = runCli(['dlq', 'replay', 'support-tickets'], { env: env.childEnv });
  assert.match(again.stdout, /replayed 0 dead letter/, 'a dead letter is replayed once');

  const back: Buffer[] = [];
  const consumer = env.kafka.consumer({ groupId: `${env.prefix}replay-check` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        back.push(message.value!);
        assert.equal(message.headers?.['ps-replayed-from-dlq']?.toString(), 'true');
        assert.equal(message.headers?.trace?.toString(), 'abc');
        assert.equal(message.key?.toString(), 'cust-9');
        resolve();
      },
    });
  });
  await consumer.disconnect();
  assert.equal(back[0]!.toString(), 'garbage-bytes');
});

test('generate is reproducible: the same seed and start give byte-identical files, another seed does not', () => {
  const args = (seed: number, out: string) => ['generate', '-c', '60', '-d', '10', '--start', '2026-01-01', '-s', String(seed), '-o', out];
  const [a, b, c] = ['a', 'b', 'c'].map((n) => join(dir, `gen-${n}`)) as [string, string, string];
  for (const [seed, out] of [
    [5, a],
    [5, b],
    [6, c],
  ] as const)
    assert.equal(runCli(args(seed, out)).status, 0);
  const files = readdirSync(a).sort();
  assert.deepEqual(files, ['clickstream.jsonl', 'purchases.jsonl', 'support-tickets.jsonl', 'truth.json']);
  for (const f of files) assert.equal(readFileSync(join(a, f), 'utf8'), readFileSync(join(b, f), 'utf8'), f);
  assert.notEqual(readFileSync(join(a, 'clickstream.jsonl'), 'utf8'), readFileSync(join(c, 'clickstream.jsonl'), 'utf8'));
  const truth = JSON.parse(readFileSync(join(a, 'truth.json'), 'utf8')) as { valid: Record<string, number>; malformed: Record<string, number> };
  const lines = readFileSync(join(a, 'purchases.jsonl'), 'utf8').trim().split('\n').length;
  assert.equal(lines, (truth.valid.purchases ?? 0) + (truth.malformed.purchases ?? 0));
  assert.ok(lines > 0);
});

test('generate --produce sends valid events as Avro and malformed ones as the raw bytes a broken app would', () => {
  const r = runCli(['generate', '-c', '30', '-d', '5', '--start', '2026-02-01', '--malformed-rate', '0.05', '--produce'], { env: env.childEnv });
  assert.equal(r.status, 0, r.stderr);
  const c = runCli(['consume', 'clickstream'], { env: env.childEnv });
  assert.equal(c.status, 0);
  const decoded = c.stdout.trim().split('\n').length;
  const bad = Number(/(\d+) could not be decoded/.exec(c.stderr)?.[1] ?? 0);
  const produced = Number(/clickstream=(\d+)/.exec(r.stdout)?.[1]);
  assert.ok(bad > 0, 'some malformed records were produced');
  assert.equal(decoded + bad, produced);
});

test('bad configuration fails at start with one line naming the variable', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ KAFKA_PORT: 'ninety' }, /config_invalid: KAFKA_PORT: expected a TCP port number/],
    [{ REDIS_URL: 'http://localhost:6379' }, /config_invalid: REDIS_URL: expected redis:\/\/host:port/],
    [{ KAFKA_BROKERS: 'localhost' }, /config_invalid: KAFKA_BROKERS: expected host:port/],
    [{ TOPIC_PARTITIONS: '0' }, /config_invalid: TOPIC_PARTITIONS/],
  ];
  for (const [bad, message] of cases) {
    const r = runCli(['stack', 'status'], { env: { ...process.env, ...bad } });
    assert.equal(r.status, 1);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
  }
});

test("stack clean removes a test's Redis keys, topics and consumer groups, and nothing of a deployment's own", async () => {
  const { Redis } = await import('ioredis');
  const redis = new Redis(env.conn.redis.url);
  const admin = env.kafka.admin();
  await admin.connect();
  try {
    const mine = `${env.prefix}ps:p:{x}:doc`;
    const kept = `keep-${env.prefix}ps:p:{x}:doc`;
    await redis.set(mine, '{}');
    await redis.set(kept, '{}');
    const r = runCli(['stack', 'clean', '--prefix', env.prefix], { env: env.childEnv });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /removed [1-9]\d* Redis keys, [1-9]\d* topics/);
    assert.equal(await redis.exists(mine), 0);
    assert.equal(await redis.exists(kept), 1);
    assert.deepEqual(
      (await admin.listTopics()).filter((t) => t.startsWith(env.prefix)),
      [],
    );
    const refused = runCli(['stack', 'clean', '--prefix', 'ps:'], { env: env.childEnv });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /config_invalid: --prefix: stack clean only removes test and benchmark data/);
    await redis.del(kept);
  } finally {
    await admin.disconnect();
    redis.disconnect();
  }
});

test('an interrupted benchmark stops the service processes it started (SIGINT and SIGTERM)', async () => {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const bench = spawnTs(CLI_MAIN, ['bench', 'identity', '--rounds', '1', '--customers', '5000'], env.childEnv);
    let stderr = '';
    bench.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = once(bench, 'exit');
    // the three stitchers are the bench's children, each leading its own process group
    const services = await waitUntil(
      "the bench's three stitcher processes",
      () => {
        const pids = execFileSync('pgrep', ['-P', String(bench.pid)], { encoding: 'utf8' })
          .trim()
          .split('\n')
          .filter(Boolean)
          .map(Number);
        return pids.length === 3 ? pids : undefined;
      },
      60_000,
    );
    for (const pid of services)
      assert.equal(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }).trim(), String(pid), 'its own process group');
    bench.kill(sig);
    const [code] = await exited;
    assert.equal(code, sig === 'SIGINT' ? 130 : 143, stderr);
    assert.match(stderr, new RegExp(`bench: ${sig}: stopping 3 service process`));
    assert.deepEqual(services.filter(alive), [], `no service outlives the bench after ${sig}`);
  }
});

test('stack provision with another TOPIC_PARTITIONS than existing topics have: reported, naming the setting, and the topics kept', async () => {
  const own = await testEnv('cli-parts'); // topics of its own (a test above cleans this file's), with TOPIC_PARTITIONS (6)
  const created = own.conn.partitions;
  const asked = created === 2 ? 3 : 2;
  const other = runCli(['stack', 'provision'], { env: { ...own.childEnv, TOPIC_PARTITIONS: String(asked) } });
  assert.equal(other.status, 0, other.stderr);
  const line = other.stdout.split('\n').find((l) => l.startsWith('partition counts kept'));
  assert.ok(line, other.stdout);
  assert.match(line, /TOPIC_PARTITIONS applies to topics created from now on/);
  for (const t of [own.topics.purchases.topic, own.topics['profile-changes'].topic]) assert.ok(line.includes(`${t} ${created}`), line);
  assert.ok(!line.includes('.dlq'), 'a DLQ has the partitions it was created with (1)');
  assert.match(other.stderr, new RegExp(`TOPIC_PARTITIONS=${asked} applies to topics created from now on`));
  const admin = own.kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [own.topics.purchases.topic] });
    assert.equal(topics[0]!.partitions.length, created);
  } finally {
    await admin.disconnect();
  }
  const same = runCli(['stack', 'provision'], { env: own.childEnv });
  assert.equal(same.status, 0, same.stderr);
  assert.doesNotMatch(same.stdout, /partition counts kept/);
});
