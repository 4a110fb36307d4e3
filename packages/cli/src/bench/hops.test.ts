import assert from 'node:assert/strict';
import { test } from 'vitest';
import { createKitMetrics } from '@profile-stream/consumer-kit';
import { hopDelta, hopRows, parseFoldRounds, parseHops, quantile, roundsLine } from './hops.ts';

/** A service's registry with a hand-moved clock: hops of exactly known lengths. */
function service() {
  let now = 0;
  const m = createKitMetrics('unit', { clock: () => now });
  const record = (topic: string, hop: Parameters<ReturnType<typeof m.hops>['start']>[0], ms: number, times = 1) => {
    for (let i = 0; i < times; i++) {
      const done = m.hops(topic).start(hop);
      now += ms;
      done();
    }
  };
  return { m, record };
}

test('parse → delta → quantiles: hops summed over topics, only what happened between the snapshots', async () => {
  const s = service();
  s.record('a', 'fold', 3, 60);
  s.record('b', 'fold', 3, 40);
  const before = parseHops(await s.m.registry.metrics());
  assert.equal(before.get('fold')!.count, 100, 'two topics, one hop');
  // 100 observations in (1.6 ms, 3.2 ms]: the median is interpolated half-way through the bucket.
  assert.ok(Math.abs(quantile(before.get('fold')!, 0.5) - 0.0024) < 1e-9);
  s.record('a', 'fold', 20, 100);
  const delta = hopDelta(parseHops(await s.m.registry.metrics()), before);
  const fold = delta.get('fold')!;
  assert.equal(fold.count, 100);
  assert.ok(Math.abs(fold.sum - 2) < 1e-9);
  assert.ok(Math.abs(quantile(fold, 0.5) - 0.0192) < 1e-9, 'only the 20 ms folds: half-way through (12.8, 25.6] ms');
  assert.ok(Math.abs(quantile(fold, 0.99) - (0.0128 + 0.0128 * 0.99)) < 1e-9);
});

test('a quantile beyond the last finite bucket is that bound; an empty histogram has none', () => {
  const h = {
    buckets: new Map([
      [0.1, 1],
      [1, 1],
      [Number.POSITIVE_INFINITY, 4],
    ]),
    sum: 100,
    count: 4,
  };
  assert.equal(quantile(h, 0.99), 1);
  assert.ok(Math.abs(quantile(h, 0.25) - 0.1) < 1e-9);
  assert.ok(Number.isNaN(quantile({ buckets: new Map(), sum: 0, count: 0 }, 0.5)));
});

test('rows: in hop-table order, shares of the cycle for its hops and handler phases, of durable for the background hops, none per message', async () => {
  const s = service();
  s.record('t', 'fetch_wait', 4, 2);
  s.record('t', 'handle', 5, 2);
  s.record('t', 'resolve', 2, 2);
  s.record('t', 'produce', 3, 2);
  s.record('t', 'decide', 1, 10);
  s.record('t', 'commit', 1, 2);
  s.record('t', 'durable', 4, 2);
  s.record('t', 'heartbeat', 1, 2);
  s.record('t', 'cycle', 10, 2);
  const rows = hopRows(parseHops(await s.m.registry.metrics()));
  assert.deepEqual(
    rows.map((r) => [String(r.hop).trim(), r.count, r.per, r.share]),
    [
      ['fetch_wait', 2, 'batch', '40.0 %'],
      ['handle', 2, 'chunk', '50.0 %'],
      ['resolve', 2, 'chunk', '20.0 %'],
      ['produce', 2, 'chunk', '75.0 %'],
      ['decide', 10, 'message', ''],
      ['commit', 2, 'chunk', '25.0 %'],
      ['durable', 2, 'chunk', '100.0 %'],
      ['heartbeat', 2, 'chunk', '10.0 %'],
      ['cycle', 2, 'chunk', '100.0 %'],
    ],
  );
  assert.equal(rows.find((r) => String(r.hop).trim() === 'resolve')!.mean_ms, '2.00');
});

test("a stitcher's fold rounds: summed by base and answer, the phase's difference, most frequent first", () => {
  const text = (kept: number, stale: number) =>
    [
      '# TYPE ps_profile_fold_rounds_total counter',
      'ps_profile_fold_rounds_total{base="known",result="written",service="s"} 10',
      `ps_profile_fold_rounds_total{base="kept",result="written",service="s"} ${kept}`,
      `ps_profile_fold_rounds_total{base="kept",result="stale",service="s"} ${stale}`,
      'ps_hop_seconds_count{hop="fold",topic="a"} 3',
    ].join('\n');
  const before = parseFoldRounds(text(5, 1));
  assert.deepEqual(
    [...before],
    [
      ['known → written', 10],
      ['kept → written', 5],
      ['kept → stale', 1],
    ],
  );
  assert.equal(roundsLine(parseFoldRounds(text(1005, 31)), before), 'kept → written 1,000 · kept → stale 30', 'unchanged counts left out');
  assert.equal(roundsLine(before, before), '');
});
