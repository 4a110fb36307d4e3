/**
 * The one test command (`./profile-stream test`, what .ci/run calls):
 *   1. type check (tsc -b), the generated-code drift check, docker-compose.yml validation and the formatter/linter
 *      check (biome),
 *   2. every test with vitest (vitest.config.ts): the `unit` project (no stack) and the `integration` project, whose
 *      global set-up brings the local stack up once and cleans up after (test/global-setup.ts).
 * `--unit` runs the unit project alone (no stack, no checks: seconds); `--watch` watches it while you work. Any other
 * argument goes to vitest: test files (`test/segments.test.ts`), `-t <name pattern>`, `--project integration`, ...
 */
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from '@profile-stream/consumer-kit';

const args = process.argv.slice(2);
const unit = args.includes('--unit');
const watch = args.includes('--watch');
const passThrough = args.filter((a) => a !== '--unit' && a !== '--watch');
const targeted = unit || watch || passThrough.length > 0;

function run(cmd: string, cmdArgs: string[]): number {
  const r = spawnSync(cmd, cmdArgs, { cwd: REPO_ROOT, stdio: 'inherit' });
  return r.status ?? 1;
}

function step(name: string, cmd: string, cmdArgs: string[]): void {
  const t0 = performance.now();
  if (run(cmd, cmdArgs) !== 0) {
    process.stderr.write(`test: ${name} failed\n`);
    process.exit(1);
  }
  process.stdout.write(`✔ ${name} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
}

if (!targeted) {
  step('type check (tsc -b)', process.execPath, ['node_modules/typescript/bin/tsc', '-b']);
  step('generated code matches schemas/ (codegen --check)', process.execPath, ['packages/contracts/codegen/codegen.ts', '--check']);
  step('docker-compose.yml is valid (docker compose config)', 'bash', ['infra/docker/validate.sh']);
  step('format and lint (biome check; `npm run format` fixes)', process.execPath, ['node_modules/@biomejs/biome/bin/biome', 'check', '.']);
}

const vitest = [process.execPath, 'node_modules/vitest/vitest.mjs'] as const;
const t0 = performance.now();
const status = run(vitest[0], [vitest[1], ...(watch ? ['--project', 'unit'] : ['run', ...(unit ? ['--project', 'unit'] : [])]), ...passThrough]);
process.stdout.write(`tests took ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
process.exit(status);
