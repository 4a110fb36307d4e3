/**
 * The one test command (`./profile-stream test`, what .ci/run calls):
 *   1. type check (tsc -b), the generated-code drift check and docker-compose.yml validation,
 *   2. the local stack up (the project's own stack scripts; nothing is skipped when a part is missing),
 *   3. every *.test.ts under packages/, services/, infra/ and test/ with node's test runner,
 *   4. what the tests left on the stack is removed (`stack clean`: keys, topics and groups named t-… or bench-…;
 *      kept with PS_KEEP_DATA=1), and the stack parts this run started are stopped again.
 * Extra arguments are passed to `node --test` (e.g. a file list or --test-name-pattern).
 */
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { resolveTopics } from '@profile-stream/contracts';
import { createLogger, loadConnections, REPO_ROOT } from '@profile-stream/consumer-kit';
import { cleanScratch, createStack, provision, stackDown, stackUp } from '@profile-stream/infra';

const args = process.argv.slice(2);
const explicitFiles = args.filter((a) => a.endsWith('.ts'));
const passThrough = args.filter((a) => !a.endsWith('.ts'));

function step(name: string, cmd: string, cmdArgs: string[]): void {
  const t0 = performance.now();
  const r = spawnSync(cmd, cmdArgs, { cwd: REPO_ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`test: ${name} failed\n`);
    process.exit(r.status ?? 1);
  }
  process.stdout.write(`✔ ${name} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
}

if (explicitFiles.length === 0) {
  step('type check (tsc -b)', process.execPath, ['node_modules/typescript/bin/tsc', '-b']);
  step('generated code matches schemas/ (codegen --check)', process.execPath, ['packages/contracts/codegen/codegen.ts', '--check']);
  step('docker-compose.yml is valid (docker compose config)', 'bash', ['infra/docker/validate.sh']);
}

const log = createLogger({ name: 'test', level: 'warn' });
const conn = loadConnections();
const stack = createStack(conn, log);
const up = await stackUp(stack);
await provision(conn, resolveTopics({ env: process.env }), log);
process.stdout.write(`✔ stack up (${up.seconds.toFixed(1)} s): ${Object.entries(up.states).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);

const files = explicitFiles.length
  ? explicitFiles
  : globSync(['packages/*/src/**/*.test.ts', 'packages/*/codegen/**/*.test.ts', 'services/*/src/**/*.test.ts', 'infra/src/**/*.test.ts', 'test/**/*.test.ts'], {
      cwd: REPO_ROOT,
      exclude: (f) => f.includes('node_modules'),
    }).sort();

const t0 = performance.now();
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=300000', '--disable-warning=ExperimentalWarning', '--disable-warning=TimeoutNegativeWarning', ...passThrough, ...files],
  { cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, PS_TEST_RUN: '1' } },
);
process.stdout.write(`tests took ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

if (!process.env.PS_KEEP_DATA) {
  const c = await cleanScratch(conn, log);
  process.stdout.write(`✔ test data removed (${c.keys} Redis keys, ${c.topics} topics, ${c.groups} consumer groups)\n`);
}
const started = Object.entries(up.states).filter(([, s]) => s === 'started').map(([name]) => name);
if (started.length && !process.env.PS_KEEP_STACK) await stackDown(stack, started);
process.exit(result.status ?? 1);
