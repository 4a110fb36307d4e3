/**
 * `erase --verify` on the real stack: a customer stitched by the real stitchers (two profiles merged through a shared
 * e-mail) and stored by the warehouse is found in Redis, ClickHouse and profile-changes; after `erase` nothing holding
 * the customer remains in Redis or ClickHouse, and profile-changes keeps only records superseded by erase records (due
 * to be compacted). On a topic provisioned with a tiny compaction lag, Kafka's cleaner removes them within the bound and
 * verify then finds none there. Provisioning again with another policy aligns an existing topic's configs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, test } from 'vitest';
import { createProducer, describeTopicConfigs } from '@profile-stream/consumer-kit';
import { clickEvent } from '@profile-stream/contracts/testing';
import type { GeneratedRecord } from '@profile-stream/generator';
import { provision } from '@profile-stream/infra';
import { runCli, testEnv, waitUntil, type TestEnv } from './support/index.ts';
import { startService, stopService, waitCommitted, type ServiceProcess } from './support/pipeline.ts';
import { setup, stitch, type Ctx } from './support/segments.ts';
import { freePort } from './support/warehouse.ts';

const KEY = 'erase-verify-test-key-0123456789';
const EMAIL = 'Erin.Verify@Example.com';
const email = EMAIL.toLowerCase();
let c: Ctx;
let wh: ServiceProcess;
let dataDir: string;
let whEnv: NodeJS.ProcessEnv;

interface Report {
  ref: string;
  erasures: { audit_id: string; profile_id: string; merged_ids: string[] }[];
  liveProfile?: string;
  places: {
    store: string;
    place: string;
    searched: boolean;
    retention?: string;
    findings: { where: string; count: number; kinds: string[]; exception?: string }[];
  }[];
  remaining: number;
  exitCode: number;
}

function verify(ref: string, env = whEnv): { status: number | null; report: Report; stdout: string } {
  const r = runCli(['erase', '--verify', ref, '--json'], { env, timeoutMs: 180_000 });
  assert.ok(r.stdout.startsWith('{'), `verify printed JSON (status ${r.status}):\n${r.stderr}`);
  return { status: r.status, report: JSON.parse(r.stdout) as Report, stdout: r.stdout };
}

const placesOf = (r: Report, store: string) => r.places.filter((p) => p.store === store);
const findingsOf = (r: Report, store: string) => placesOf(r, store).flatMap((p) => p.findings);

function click(id: string, who: { anonymous_id?: string; email?: string; user_id?: string }, at: number): GeneratedRecord {
  return {
    topic: 'clickstream',
    key: null,
    value: clickEvent({ event_id: id, occurred_at: at, ...who, page: { url: 'https://shop.example/', referrer: null, title: null } }),
  };
}

beforeAll(async () => {
  c = await setup('erasev');
  dataDir = mkdtempSync(join(tmpdir(), 'ps-erasev-'));
  whEnv = {
    ...c.childEnv,
    LOG_LEVEL: 'warn',
    PII_HASH_KEY: KEY,
    WAREHOUSE_GROUP_ID: `${c.env.prefix}warehouse`,
    WAREHOUSE_DATA_DIR: dataDir,
    WAREHOUSE_OPS_PORT: String(await freePort()),
    WAREHOUSE_BATCH_MS: '200',
  };
  const t = Date.now() - 3_600_000;
  // Two profiles (an anonymous visitor, a signed-in customer) merged by a visit that carries both identifiers.
  // Two rounds: the visit that links them is stitched after both profiles exist.
  await stitch(c, [click('ev-1', { anonymous_id: 'anon-erin-7f3a' }, t), click('ev-2', { email: EMAIL, user_id: 'user-erin-42' }, t + 1000)]);
  await stitch(c, [click('ev-3', { anonymous_id: 'anon-erin-7f3a', email: EMAIL }, t + 2000)]);
  wh = startService({ ...whEnv, LOG_LEVEL: 'info' }, 'warehouse');
  for (const id of ['clickstream', 'profile-changes'] as const) await waitCommitted(c.env.kafka, `${c.env.prefix}warehouse`, c.env.topics[id].topic);
}, 240_000);

afterAll(async () => {
  if (wh) assert.equal(await stopService(wh), 0, wh.stderr().slice(-3000));
  await c.redis.quit();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a live customer is found in Redis, ClickHouse and profile-changes: every place reported, exit 5, no PII printed', () => {
  const { status, report, stdout } = verify(`email:${EMAIL}`);
  assert.equal(status, 5, JSON.stringify(report.places, null, 1));
  assert.equal(report.erasures.length, 0);
  assert.match(report.liveProfile ?? '', /^p[0-9a-z]{19}$/);
  assert.ok(!stdout.toLowerCase().includes(email), 'the report never repeats the e-mail');
  assert.equal(report.ref, 'email:<email>');

  const redisKeys = findingsOf(report, 'redis').map((f) => f.where);
  assert.ok(redisKeys.includes(`${c.env.prefix}ps:{${c.env.prefix}ps:ix}:id:email:<email>`), redisKeys.join('\n'));
  assert.ok(redisKeys.includes(`${c.env.prefix}ps:p:{${report.liveProfile}}:doc`));
  const ch = findingsOf(report, 'clickhouse');
  assert.ok(
    ch.some((f) => f.where.startsWith('clickstream_events.') && f.count >= 2),
    `raw events by identifier: ${ch.map((f) => f.where).join(' ')}`,
  );
  assert.ok(ch.some((f) => f.where.startsWith('profiles.')));
  assert.ok(findingsOf(report, 'clickhouse').every((f) => !f.exception));
  const changes = placesOf(report, 'kafka').find((p) => p.place === c.env.topics['profile-changes'].topic);
  assert.ok(changes?.searched && changes.findings.length >= 2 && changes.findings.every((f) => !f.exception));
  const input = placesOf(report, 'kafka').find((p) => p.place === c.env.topics.clickstream.topic);
  assert.deepEqual([input?.searched, input?.retention], [false, '7 d'], 'input topics: reported as not searched, with their retention');
});

test('after erase: nothing in Redis or ClickHouse but pseudonymous records, profile-changes records due to be compacted; exit 0', async () => {
  const before = verify(`email:${EMAIL}`).report;
  const erase = runCli(['erase', `email:${EMAIL}`, '--reason', 'test'], { env: whEnv });
  assert.equal(erase.status, 0, erase.stderr);
  for (const id of ['profile-erased', 'profile-changes'] as const) await waitCommitted(c.env.kafka, `${c.env.prefix}warehouse`, c.env.topics[id].topic);
  // the warehouse commits profile-erased only after its DELETEs: the rows are gone now

  for (const ref of [`email:${EMAIL}`, before.liveProfile!]) {
    const { status, report } = verify(ref);
    assert.equal(status, 0, JSON.stringify(report, null, 1));
    assert.equal(report.liveProfile, undefined);
    assert.equal(report.erasures.length, 1);
    const erasure = report.erasures[0]!;
    assert.equal(erasure.profile_id, before.liveProfile);
    assert.equal(erasure.merged_ids.length, 1, 'the merged anonymous profile was erased with it');
    assert.ok(
      findingsOf(report, 'redis').every((f) => !f.kinds.includes('identifier') && f.exception),
      JSON.stringify(findingsOf(report, 'redis'), null, 1),
    );
    assert.deepEqual([...new Set(findingsOf(report, 'clickhouse').map((f) => f.where.split('.')[0]))], ['erasures']);
    const changes = placesOf(report, 'kafka').find((p) => p.place === c.env.topics['profile-changes'].topic)!;
    const superseded = changes.findings.filter((f) => f.exception?.startsWith('removed by compaction by '));
    assert.ok(superseded.length >= 2, JSON.stringify(changes.findings, null, 1));
    const due = Date.parse(superseded[0]!.exception!.slice('removed by compaction by '.length));
    assert.ok(due > Date.now() + 23 * 3_600_000 && due < Date.now() + 25 * 3_600_000, 'within the 24 h compaction lag');
  }
});

test('compaction removes an erased profile’s earlier records within the lag: verify finds none; a second provision aligns the configs', async () => {
  const env: TestEnv = await testEnv('erasec');
  const topic = env.topics['profile-changes'].topic;
  const aligned = await provision(env.conn, env.topics, env.log, { inputRetentionMs: 2 * 86_400_000, compactionLagMs: 2000 });
  assert.ok(aligned.alignedTopics.includes(topic), 'the existing topic was aligned');
  assert.ok(aligned.alignedTopics.includes(env.topics.clickstream.topic));
  // the broker applies a config change through its metadata log: it reports it a moment later
  await waitUntil('the broker to report the aligned configs', async () => {
    const configs = await describeTopicConfigs(env.kafka, [topic, env.topics.clickstream.topic]);
    return (
      (configs.get(topic)?.overrides['max.compaction.lag.ms'] === '2000' &&
        configs.get(env.topics.clickstream.topic)?.overrides['retention.ms'] === String(2 * 86_400_000)) ||
      undefined
    );
  });

  const status = runCli(['stack', 'status', '--json'], { env: env.childEnv });
  assert.equal(status.status, 0, status.stderr);
  const shown = (JSON.parse(status.stdout) as { topics: { topic: string; cleanupPolicy: string; retentionMs: number; maxCompactionLagMs?: number }[] }).topics;
  assert.deepEqual(
    shown.filter((t) => t.topic === topic || t.topic === env.topics.clickstream.topic),
    [
      { topic: env.topics.clickstream.topic, cleanupPolicy: 'delete', retentionMs: 2 * 86_400_000, segmentMs: 604_800_000 },
      { topic, cleanupPolicy: 'compact,delete', retentionMs: 604_800_000, maxCompactionLagMs: 2000, segmentMs: 2000 },
    ],
    'stack status shows each topic’s retention and compaction lag',
  );

  const pid = 'p0erasec0000000000001';
  const other = 'p0erasec0000000000002';
  const record = (id: string, version: number, cause: string, profile: object | null) =>
    env.registry.encode(topic, {
      event_id: `${id}:v${version}`,
      profile_id: id,
      profile_version: version,
      cause,
      trigger_event_id: null,
      source_topic: null,
      changed_sections: [],
      occurred_at: Date.now(),
      emitted_at: Date.now(),
      profile_json: profile === null ? null : JSON.stringify(profile),
    });
  const producer = createProducer(env.kafka);
  await producer.connect();
  const partition = 0;
  const send = async (key: string, value: Buffer) => producer.send({ topic, acks: -1, messages: [{ key, value, partition }] });
  const childEnv = {
    ...env.childEnv,
    REDIS_PREFIX: `${env.prefix}ps:`,
    PII_HASH_KEY: KEY,
    WAREHOUSE_OPS_PORT: whEnv.WAREHOUSE_OPS_PORT,
    WAREHOUSE_DATA_DIR: dataDir,
  };
  const changesIn = (r: Report) => placesOf(r, 'kafka').find((p) => p.place === topic)!.findings;
  try {
    await send(pid, await record(pid, 1, 'event', { profile_id: pid, identity: { emails: [email] } }));
    await send(pid, await record(pid, 2, 'event', { profile_id: pid, identity: { emails: [email], user_ids: ['user-erin-42'] } }));
    await send(pid, await record(pid, 3, 'erase', null));
    const pending = verify(`email:${EMAIL}`, childEnv).report;
    assert.equal(changesIn(pending).length, 2, JSON.stringify(changesIn(pending)));
    assert.ok(changesIn(pending).every((f) => f.exception?.startsWith('removed by compaction by ')));

    // Kafka rolls the active segment only on a write: a record of another profile every half second, as a busy pipeline writes.
    const started = Date.now();
    let v = 0;
    await waitUntil(
      'the cleaner to remove the superseded records',
      async () => {
        await send(other, await record(other, ++v, 'event', { profile_id: other }));
        return (await offsetsOf(env, topic, partition, pid)).length === 1 || undefined;
      },
      90_000,
    );
    const seconds = (Date.now() - started) / 1000;
    const after = verify(`email:${EMAIL}`, childEnv);
    assert.equal(after.status, 0, after.stdout);
    assert.deepEqual(changesIn(after.report), [], `no record of the e-mail left after ${seconds} s`);
    process.stderr.write(`compaction removed the superseded records in ${seconds.toFixed(1)} s (lag 2 s)\n`);
  } finally {
    await producer.disconnect();
  }
}, 200_000);

/** Offsets of the records with `key` in one partition, read from the beginning to the current end. */
async function offsetsOf(env: TestEnv, topic: string, partition: number, key: string): Promise<string[]> {
  const admin = env.kafka.admin();
  await admin.connect();
  const high = BigInt((await admin.fetchTopicOffsets(topic)).find((p) => p.partition === partition)!.high);
  await admin.disconnect();
  const consumer = env.kafka.consumer({ groupId: `${env.prefix}read-${Date.now()}`, maxWaitTimeInMs: 100 });
  const found: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done = false;
    await consumer.run({
      eachMessage: async ({ partition: p, message }) => {
        if (p !== partition) return;
        if (message.key?.toString() === key) found.push(message.offset);
        if (BigInt(message.offset) + 1n >= high) done = true;
      },
    });
    await waitUntil('the partition read to its end', () => done, 30_000);
  } finally {
    await consumer.disconnect();
  }
  return found;
}
