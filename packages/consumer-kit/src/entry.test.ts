/**
 * runService, the entry of every service process, in a real child process: a SIGTERM that arrives while the service
 * starts is kept and drains the service once it is up (exit 0); a failed start is one line naming the cause, exit 1.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'vitest';

const ENTRY = new URL('./entry.ts', import.meta.url).href;

/** Runs `body` (module code with runService imported) in a child Node; its exit and output. */
async function run(body: string): Promise<{ code: number | null; signal: string | null; out: string[]; err: string }> {
  const source = `import { runService } from ${JSON.stringify(ENTRY)};\n${body}`;
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  return { code, signal, out: out.split('\n').filter(Boolean), err };
}

/** A started service: something keeps it alive (as its connections would) until it is stopped. */
const service = `((alive) => ({
  log: { info: (o, msg) => console.log(msg + ' on ' + o.signal), error: (o, msg) => console.log(msg) },
  stop: async () => { clearInterval(alive); console.log('stopped'); },
}))(setInterval(() => undefined, 1000))`;

test('a SIGTERM during start-up is kept: the service starts, then drains and exits 0', async () => {
  const r = await run(`
await runService('fixture', async () => {
  process.kill(process.pid, 'SIGTERM'); // arrives while the service is still starting
  await new Promise((resolve) => setTimeout(resolve, 300));
  console.log('started');
  return ${service};
});`);
  assert.deepEqual({ code: r.code, signal: r.signal, out: r.out }, { code: 0, signal: null, out: ['started', 'draining on SIGTERM', 'stopped'] }, r.err);
});

test('a SIGTERM after start drains once, whatever follows', async () => {
  const r = await run(`
await runService('fixture', async () => ${service});
console.log('running');
process.kill(process.pid, 'SIGTERM');
process.kill(process.pid, 'SIGINT');`);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.out, ['running', 'draining on SIGTERM', 'stopped']);
});

test('a failed start is one line naming the service and the code, exit 1', async () => {
  const r = await run(`
await runService('fixture', async () => { throw Object.assign(new Error('SEGMENTER_SHARDS: expected an integer'), { code: 'config_invalid' }); });`);
  assert.equal(r.code, 1);
  assert.equal(r.err, 'fixture: config_invalid: SEGMENTER_SHARDS: expected an integer\n');
});
