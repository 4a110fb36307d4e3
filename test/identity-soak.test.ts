/**
 * The identity convergence soak as a user runs it (`profile-stream bench identity`), a few rounds: three stitcher
 * processes, chunks of 25, customers whose identifiers link only across topics, shuffled and 5 % redelivered; every
 * round must end with exactly the oracle's customers and every invariant (30 rounds: the benchmark).
 */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { runCli } from './support/index.ts';

test('bench identity: rounds of the soak converge to the oracle', () => {
  const r = runCli(['bench', 'identity', '--rounds', '2', '--customers', '600', '--seed', String(1000 + Math.floor(Math.random() * 1000))], {
    timeoutMs: 600_000,
  });
  assert.equal(
    r.status,
    0,
    `${r.stdout}\n${r.stderr
      .split('\n')
      .filter((l) => !l.startsWith('{'))
      .join('\n')}`,
  );
  assert.match(r.stdout, /^2\/2 rounds converged/m);
  assert.match(r.stderr, /round 2\/2: 600 customers, 5400 events \+ \d+ redelivered, [1-9]\d* merges/);
});
