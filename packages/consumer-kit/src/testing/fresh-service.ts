import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';

/**
 * What a fresh Node process that loads consumer-kit's entry point only (as a service does) finds: `[typeof
 * createProducer, probe]`, where `probe` is an expression over the patch module `p` (and `createRequire`).
 */
export function inFreshService(probe: string): unknown {
  const index = new URL('../index.ts', import.meta.url).href;
  const patch = new URL('../kafkajs-patch.ts', import.meta.url).href;
  const script = `import { createRequire } from 'node:module'; import { createProducer } from '${index}'; import * as p from '${patch}';
    process.stdout.write(JSON.stringify([typeof createProducer, ${probe}]));`;
  const child = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '--eval', script], { encoding: 'utf8' });
  expect(child.stderr).toBe('');
  return JSON.parse(child.stdout);
}
