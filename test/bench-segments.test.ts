/**
 * `bench segments` as a user runs it, with tiny sizes, on the real stack: its behaviour, not its speed. Every input
 * event produced is accounted for (consumed back by the observer from the input topic, joined with its send time), its producer and
 * observer run as processes of their own that are metered and gone after the run, and an interrupted run stops them
 * and the services.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { beforeAll, test } from 'vitest';
import { spawnCli, testEnv, type TestEnv, waitUntil } from './support/index.ts';

let env: TestEnv;
beforeAll(async () => {
  env = await testEnv('bench-segments');
});

const bench = (args: string[], onStderr?: Parameters<typeof spawnCli>[2]) => spawnCli(['bench', 'segments', ...args], env.childEnv, onStderr);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The rows of the table headed by a line starting with `first` (columns are separated by two spaces or more). */
function table(stdout: string, first: string): Record<string, string>[] {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`${first} `));
  assert.ok(at >= 0, `no table starting with ${first} in:\n${stdout}`);
  const split = (l: string) => l.trim().split(/\s{2,}/);
  const header = split(lines[at]!);
  const rows: Record<string, string>[] = [];
  for (const l of lines.slice(at + 2)) {
    if (l.trim() === '') break;
    rows.push(Object.fromEntries(split(l).map((v, i) => [header[i]!, v])));
  }
  return rows;
}

/** The bench's own child processes named in its CPU table: `bench producer (pid N)`, `bench observer (pid N)`. */
const benchChildren = (stdout: string) => [...stdout.matchAll(/^bench (producer|observer) \(pid (\d+)\)/gm)].map((m) => ({ name: m[1]!, pid: Number(m[2]) }));

test('every input event produced is consumed back and joined with its send time; producer and observers are processes of their own, metered, gone after the run', async () => {
  const rate = 50;
  const seconds = 2;
  const run = await bench(['--rates', String(rate), '--seconds', String(seconds), '--scheduled', '0']);
  assert.equal(run.code, 0, `bench segments failed:\n${run.stderr}`);
  const [row, ...more] = table(run.stdout, 'target/s');
  assert.ok(row, run.stdout);
  assert.equal(more.length, 0);
  // The generated day may hold a few purchases fewer than asked for (the bench warns); every one it has is sent.
  assert.ok(Number(row.events) >= 0.8 * rate * seconds && Number(row.events) <= rate * seconds, JSON.stringify(row));
  assert.equal(Number(row['input consumed']), Number(row.events), 'every event sent consumed back from the input topic');
  assert.ok(Number(row['achieved/s']) > 0, JSON.stringify(row));
  // Purchases of new customers make first-time buyers: membership events answering the input, each with a latency.
  assert.ok(Number(row['membership events']) > 0, JSON.stringify(row));
  assert.ok(Number(row.p99_ms) >= Number(row.p50_ms) && Number(row.p50_ms) >= 0, JSON.stringify(row));
  const [changeP50, changeP99] = row['→ profile-changes p50/p99 ms']!.split('/').map(Number);
  assert.ok(changeP50! >= 0 && changeP99! >= changeP50!, JSON.stringify(row));

  const children = benchChildren(run.stdout);
  // one observer of the three topics (membership events, the raw input, profile-changes)
  assert.deepEqual(children.map((c) => c.name).sort(), ['observer', 'producer']);
  assert.equal(new Set(children.map((c) => c.pid)).size, 2, 'two processes');
  assert.deepEqual(
    children.filter((c) => alive(c.pid)),
    [],
    'no bench child outlives the run',
  );
});

test('an interrupted run stops its services, producer and observers (each leads a process group of its own)', async () => {
  let pids: number[] = [];
  let groups: string[] = [];
  let signalled = false;
  const run = await bench(['--rates', '50', '--seconds', '120', '--scheduled', '0'], (stderr, child) => {
    if (signalled || !stderr.includes('purchases at')) return;
    signalled = true;
    // two services, the observer, then the producer once the input is prepared
    void waitUntil(
      "the bench's four processes",
      () => {
        const found = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
          .trim()
          .split('\n')
          .filter(Boolean)
          .map(Number);
        return found.length === 4 && found;
      },
      120_000,
    ).then((found) => {
      pids = found;
      groups = found.map((pid) => execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
      child.kill('SIGINT');
    });
  });
  assert.equal(run.code, 130, run.stderr);
  assert.match(run.stderr, /bench: SIGINT: stopping 2 service process\(es\) and 2 child process\(es\)/);
  assert.equal(pids.length, 4);
  assert.deepEqual(groups, pids.map(String), 'each leads its own process group');
  assert.deepEqual(pids.filter(alive), [], 'no process outlives the bench');
});

test('--floor runs stand-ins of the same shape (no Redis, no logic): every input answered by two membership events, through profile-changes', async () => {
  const run = await bench(['--floor', '--rates', '50', '--seconds', '2', '--scheduled', '0', '--warmup', '0']);
  assert.equal(run.code, 0, `bench segments --floor failed:\n${run.stderr}`);
  const [row] = table(run.stdout, 'target/s');
  assert.ok(row, run.stdout);
  assert.ok(Number(row.events) > 0, JSON.stringify(row));
  assert.equal(Number(row['input consumed']), Number(row.events), JSON.stringify(row));
  // the stand-in segmenter answers each change with two membership events, each joined with its input's send time
  assert.equal(Number(row['membership events']), 2 * Number(row.events), JSON.stringify(row));
  const [changeP50, changeP99] = row['→ profile-changes p50/p99 ms']!.split('/').map(Number);
  assert.ok(changeP50! >= 0 && changeP99! >= changeP50!, JSON.stringify(row));
  // metered and probed under their own names, with the consume loop's hops
  assert.match(run.stdout, /^floor stitcher \(pid \d+\)/m);
  assert.match(run.stdout, /^floor segmenter \(pid \d+\)/m);
  assert.match(run.stdout, /floor stitcher: where the time goes/);
});
