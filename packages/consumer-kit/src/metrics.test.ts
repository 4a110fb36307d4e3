import assert from 'node:assert/strict';
import { test } from 'vitest';
import { createKitMetrics, HOP_BUCKETS, HOPS, untimed, type Hop } from './metrics.ts';
import { perKey } from './per-key.ts';
import { ok, type KitMessage } from './outcome.ts';

/** A clock the test moves by hand (ms). */
function fakeClock() {
  let now = 1_000;
  return { clock: () => now, advance: (ms: number) => (now += ms) };
}

/** count and sum of ps_hop_seconds for one topic and hop, read back from the registry. */
async function hopStats(m: ReturnType<typeof createKitMetrics>, topic: string, hop: Hop): Promise<{ count: number; sum: number }> {
  const json = await m.hopSeconds.get();
  const pick = (name: string) => json.values.find((v) => v.metricName === name && v.labels.topic === topic && v.labels.hop === hop)?.value ?? 0;
  return { count: pick('ps_hop_seconds_count'), sum: pick('ps_hop_seconds_sum') };
}

test('a hop timer records each hop under its topic, with the time the clock moved', async () => {
  const c = fakeClock();
  const m = createKitMetrics('unit', { clock: c.clock });
  const hops = m.hops('clickstream');
  const resolving = hops.start('resolve');
  c.advance(12);
  assert.equal(resolving(), 0.012);
  await hops.time('produce', async () => {
    c.advance(30);
  });
  await hops.time('produce', async () => {
    c.advance(10);
  });
  assert.deepEqual(await hopStats(m, 'clickstream', 'resolve'), { count: 1, sum: 0.012 });
  const produce = await hopStats(m, 'clickstream', 'produce');
  assert.equal(produce.count, 2);
  assert.ok(Math.abs(produce.sum - 0.04) < 1e-9);
  assert.deepEqual(await hopStats(m, 'purchases', 'produce'), { count: 0, sum: 0 }, 'another topic saw nothing');
  const text = await m.registry.metrics();
  assert.match(text, /ps_hop_seconds_bucket\{le="0\.0128",service="unit",topic="clickstream",hop="resolve"\} 1/);
  assert.match(text, /ps_hop_seconds_bucket\{le="0\.0064",service="unit",topic="clickstream",hop="resolve"\} 0/);
});

test('a failed attempt is not recorded as a hop; untimed records nothing', async () => {
  const c = fakeClock();
  const m = createKitMetrics('unit', { clock: c.clock });
  const hops = m.hops('t');
  await assert.rejects(
    hops.time('fold', async () => {
      c.advance(5);
      throw new Error('redis down');
    }),
    /redis down/,
  );
  assert.equal((await hopStats(m, 't', 'fold')).count, 0);
  assert.equal(await untimed.time('fold', async () => 7), 7);
  assert.equal(untimed.start('fold')(), 0);
  assert.equal((await hopStats(m, 't', 'fold')).count, 0);
});

test('handlers under perKey get the chunk timer: per-message hops are counted once per message', async () => {
  const c = fakeClock();
  const m = createKitMetrics('unit', { clock: c.clock });
  const msg = (offset: number, key: string): KitMessage => ({
    topic: 't',
    partition: 0,
    offset: String(offset),
    key: Buffer.from(key),
    value: null,
    headers: {},
    timestamp: '0',
  });
  const handler = perKey(async (_m, ctx) => {
    const deciding = ctx.hops.start('decide');
    c.advance(2);
    deciding();
    return ok();
  });
  await handler([msg(0, 'a'), msg(1, 'b'), msg(2, 'a')], {
    heartbeat: async () => {},
    signal: new AbortController().signal,
    hops: m.hops('t'),
    defer: () => {},
  });
  const decide = await hopStats(m, 't', 'decide');
  assert.equal(decide.count, 3);
  assert.ok(Math.abs(decide.sum - 0.006) < 1e-9);
});

test('the hop table: every hop has a scope and a meaning; buckets span 100 µs to beyond 10 s', () => {
  for (const [hop, d] of Object.entries(HOPS)) {
    assert.ok(['request', 'cycle', 'handler', 'background', 'message', 'relay'].includes(d.scope), hop);
    assert.ok(d.meaning.length > 10, hop);
  }
  assert.equal(HOP_BUCKETS[0], 0.0001);
  assert.ok(HOP_BUCKETS[HOP_BUCKETS.length - 1]! > 10);
});
