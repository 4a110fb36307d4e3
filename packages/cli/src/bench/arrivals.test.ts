import assert from 'node:assert/strict';
import { test } from 'vitest';
import { bySegment, joinArrivals } from './arrivals.ts';

const sent = new Map([
  ['e1', 1000],
  ['e2', 2000],
]);

test('each arrival answering a sent event is one latency; arrivals of other events are left out', () => {
  const j = joinArrivals(sent, { ids: ['e1', null, 'x', 'e2', 'e1'], at: Float64Array.from([1010, 1500, 1600, 2030, 1040]) });
  assert.deepEqual(j.latencies, [10, 30, 40]);
  assert.deepEqual([...j.ids].sort(), ['e1', 'e2']);
});

test('per segment and change: the latency from the input, and from its first profile change to the membership event', () => {
  const membership = {
    ids: ['e1', 'e2', 'e1', 'zz'],
    at: Float64Array.from([1050, 2100, 1090, 3000]),
    labels: ['first-time-buyer entered', 'first-time-buyer entered', 'occasional entered', 'first-time-buyer entered'],
  };
  // e1's profile change arrived twice (a re-delivery): the first counts; e2's never (no "after" sample).
  const changes = { ids: ['e1', 'e1'], at: Float64Array.from([1020, 1080]) };
  const rows = bySegment(sent, membership, changes);
  assert.deepEqual(rows, [
    { 'segment change': 'first-time-buyer entered', events: 2, p50_ms: 50, p99_ms: 100, 'after its profile change p50/p99 ms': '30/30' },
    { 'segment change': 'occasional entered', events: 1, p50_ms: 90, p99_ms: 90, 'after its profile change p50/p99 ms': '70/70' },
  ]);
});
