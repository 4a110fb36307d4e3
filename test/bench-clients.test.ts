/**
 * `bench clients` as a user runs it, with tiny sizes, on the real stack: its behaviour, not its speed. Every message
 * produced is consumed by both clients in every phase, the table has both clients side by side, the topics it made
 * are gone afterwards, and an interrupted run stops its child processes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { beforeAll, test } from 'vitest';
import { spawnCli, testEnv, type TestEnv, waitUntil } from './support/index.ts';

let env: TestEnv;
beforeAll(async () => {
  env = await testEnv('bench-clients');
});

const bench = (args: string[], onStderr?: Parameters<typeof spawnCli>[2]) => spawnCli(['bench', 'clients', ...args], env.childEnv, onStderr);

/** The table's rows: phase, measure, kafkajs, @platformatic/kafka, ratio (columns are separated by two spaces or more). */
function table(stdout: string): { header: string[]; rows: string[][] } {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith('phase '));
  assert.ok(at >= 0, `no table in:\n${stdout}`);
  const split = (l: string) => l.trim().split(/\s{2,}/);
  return {
    header: split(lines[at]!),
    rows: lines
      .slice(at + 2)
      .filter((l) => l.trim() !== '')
      .map(split),
  };
}

async function topicsUnder(prefix: string): Promise<string[]> {
  const admin = env.kafka.admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  } finally {
    await admin.disconnect();
  }
}

test('every message produced is consumed by both clients in every phase; one table, both clients side by side; its topics are deleted', async () => {
  const n = 1500;
  const rate = 300;
  const seconds = 2;
  const run = await bench(['-n', String(n), '--rates', String(rate), '--seconds', String(seconds), '--handler-ms', '2']);
  assert.equal(run.code, 0, `bench clients failed:\n${run.stderr}`);
  const { header, rows } = table(run.stdout);
  assert.deepEqual(header, ['phase', 'measure', 'kafkajs', '@platformatic/kafka', 'ratio (platformatic / kafkajs)']);
  const figure = (phase: RegExp, measure: string) => {
    const row = rows.find((r) => phase.test(r[0]!) && r[1] === measure);
    assert.ok(row, `no row ${phase} / ${measure} in:\n${run.stdout}`);
    return { kafkajs: Number(row[2]), platformatic: Number(row[3]) };
  };
  // kafkajs's idempotent producer writes each message exactly once. @platformatic/kafka's loses none but may write some
  // twice: after OUT_OF_ORDER_SEQUENCE_NUMBER it takes a new producer id and sends again, which the broker cannot
  // deduplicate (seen once: 2,084 for 1,500). The bench prints what is in the topic; that is the comparison's finding.
  const inTopic = figure(/^produce /, 'messages in the topic after');
  assert.equal(inTopic.kafkajs, n);
  assert.ok(inTopic.platformatic >= n, `@platformatic/kafka lost messages: ${inTopic.platformatic} of ${n} in the topic`);
  assert.deepEqual(figure(/^consume \(count only\)/, 'messages consumed'), { kafkajs: n, platformatic: n });
  assert.deepEqual(figure(/^consume, handler 2 ms/, 'messages consumed'), { kafkajs: n, platformatic: n });
  assert.deepEqual(figure(new RegExp(`^latency at ${rate}/s`), 'messages consumed'), { kafkajs: rate * seconds, platformatic: rate * seconds });
  for (const [phase, measure] of [
    [/^produce /, 'messages/s'],
    [/^consume \(count only\)/, 'messages/s'],
    [new RegExp(`^latency at ${rate}/s`), 'p99 ms'],
    [new RegExp(`^latency at ${rate}/s`), 'consumer process CPU, % of a core'],
  ] as const) {
    const f = figure(phase, measure);
    assert.ok(f.kafkajs >= 0 && f.platformatic >= 0, `${phase} / ${measure}: a figure per client (${JSON.stringify(f)})`);
  }
  const prefix = /topics under (\S+) /.exec(run.stderr)?.[1] ?? '';
  assert.match(prefix, /^bench-clients-/, `no topic prefix in:\n${run.stderr}`);
  assert.deepEqual(await topicsUnder(prefix), []);
});

test('an interrupted run stops its producer and consumer processes (each leads a process group of its own)', async () => {
  let children: number[] = [];
  let signalled = false;
  const run = await bench(['-n', '1000', '--rates', '200', '--seconds', '60'], (stderr, child) => {
    if (signalled || !stderr.includes('latency at')) return;
    signalled = true;
    void waitUntil(
      'the latency phase',
      () => {
        const pids = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
          .trim()
          .split('\n')
          .map(Number);
        return pids.length >= 2 && pids;
      },
      60_000,
    ).then((pids) => {
      children = pids;
      child.kill('SIGINT');
    });
  });
  assert.equal(run.code, 130, run.stderr);
  assert.match(run.stderr, /bench clients: SIGINT: stopping 2 child process\(es\)/);
  assert.equal(children.length, 2);
  for (const pid of children) assert.throws(() => process.kill(pid, 0), `child ${pid} still running`);
});
