import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'vitest';
import { meterCpu } from './cpu.ts';

// A process that burns ~300 ms of CPU in a child of its own (reaped: counted through cutime), then idles until killed.
const BURN = `
const { spawnSync } = require('node:child_process');
spawnSync(process.execPath, ['-e', 'const t = Date.now(); while (Date.now() - t < 300) {}']);
process.stdout.write('burnt\\n');
setInterval(() => {}, 1000);
`;

test('CPU of a process counts its descendants, reaped ones included; this process is metered too', async () => {
  const child = spawn(process.execPath, ['-e', BURN], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const meter = meterCpu([
      { name: 'burner', pid: child.pid! },
      { name: 'bench', pid: undefined },
    ]);
    const t = Date.now();
    while (Date.now() - t < 100) {} // this process burns a little too
    await once(child.stdout!, 'data');
    const [burner, self, machine] = meter.read();
    assert.ok(Number(machine!['cpu s']) >= Number(burner!['cpu s']) * 0.9, 'the machine ran at least the burner');
    assert.match(String(burner!.process), /^burner \(pid \d+\)$/);
    assert.ok(Number(burner!['cpu s']) >= 0.2, `the grandchild's 300 ms counted: ${burner!['cpu s']} s`);
    assert.ok(Number(self!['cpu s']) >= 0.05, `this process's 100 ms counted: ${self!['cpu s']} s`);
    assert.match(String(self!.process), /this process/);
    for (const r of [burner!, self!]) assert.match(String(r['waited for a core, %']), /^\d+$/, 'run-queue wait read for each process');
    assert.equal(machine!['waited for a core, %'], '', 'none for the machine');
  } finally {
    child.kill('SIGKILL');
  }
});
