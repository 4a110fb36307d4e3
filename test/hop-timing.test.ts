/**
 * Per-hop timing on the real stack: the purchases stitcher and the segmenter as processes, a few generated purchases
 * (and one record that is not Avro), then each service's /metrics: every hop of its cycle was recorded, and the hops
 * nest as they run — a partition's cycle covers its fetch wait, wait for room in the background, handle, dlq and
 * heartbeat; handle covers the handler's phases; a chunk's time in the background (durable) covers its deferred
 * produce and settle and its commit (wall-clock intervals inside one another, so the sums do too). No speed is asserted.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, test } from 'vitest';
import { createProducer } from '@profile-stream/consumer-kit';
import { generate } from '@profile-stream/generator';
import { testEnv, waitUntil, type TestEnv } from './support/index.ts';
import { produceRecords, startService, stopService, waitCommitted, type ServiceProcess } from './support/pipeline.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** count and sum of ps_hop_seconds by hop (summed over topics). */
async function hops(port: number): Promise<Map<string, { count: number; sum: number }>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, { count: number; sum: number }>();
  for (const m of text.matchAll(/^ps_hop_seconds_(sum|count)\{[^}]*hop="(\w+)"[^}]*\} (\S+)$/gm)) {
    const h = out.get(m[2]!) ?? { count: 0, sum: 0 };
    h[m[1] as 'sum' | 'count'] += Number(m[3]);
    out.set(m[2]!, h);
  }
  return out;
}

let env: TestEnv;
const services: ServiceProcess[] = [];
beforeAll(async () => {
  env = await testEnv('hops');
});
afterAll(async () => {
  for (const s of services) await stopService(s);
});

test('the stitcher and the segmenter record every hop, and the hops nest inside the cycle', async () => {
  const start = Date.now() - 3 * 86_400_000;
  const records = [...generate({ seed: 12, customers: 40, days: 2, start, junkRate: 0, malformedRate: 0, duplicateRate: 0 })].filter(
    (r) => r.topic === 'purchases',
  );
  assert.ok(records.length >= 10, `enough purchases generated (${records.length})`);
  await produceRecords(env, records);
  const producer = createProducer(env.kafka);
  await producer.connect();
  await producer.send({ topic: env.topics.purchases.topic, acks: -1, messages: [{ key: 'x', value: Buffer.from('not avro') }] });
  await producer.disconnect();

  const ports = { stitcher: await freePort(), segmenter: await freePort() };
  const common = { ...env.childEnv, REDIS_PREFIX: `${env.prefix}ps:`, PROFILE_DEDUP_WINDOW_DAYS: '30' };
  services.push(startService({ ...common, STITCHER_GROUP_ID: `${env.prefix}p`, STITCHER_OPS_PORT: String(ports.stitcher) }, 'purchases'));
  services.push(startService({ ...common, SEGMENTER_GROUP_ID: `${env.prefix}seg`, SEGMENTER_OPS_PORT: String(ports.segmenter) }, 'segmenter'));
  await waitCommitted(env.kafka, `${env.prefix}p`, env.topics.purchases.topic);
  await waitCommitted(env.kafka, `${env.prefix}seg`, env.topics['profile-changes'].topic);

  // A chunk's commit is recorded in the background after its cycle: wait for the last one to be complete.
  const settled = (h: Map<string, { count: number }>) =>
    (h.get('cycle')?.count ?? 0) > 0 && h.get('cycle')!.count === h.get('commit')?.count && h.get('cycle')!.count === h.get('durable')?.count;
  const stitcher = await waitUntil('the stitcher to finish its last cycle', async () => {
    const h = await hops(ports.stitcher);
    return settled(h) ? h : undefined;
  });
  for (const hop of [
    'fetch',
    'fetch_wait',
    'handle',
    'prepare',
    'resolve',
    'fold',
    'encode',
    'produce',
    'settle',
    'dlq',
    'commit',
    'durable',
    'heartbeat',
    'cycle',
  ]) {
    assert.ok((stitcher.get(hop)?.count ?? 0) > 0, `stitcher hop ${hop} recorded: ${JSON.stringify([...stitcher])}`);
  }
  const sum = (m: typeof stitcher, names: string[]) => names.reduce((s, n) => s + (m.get(n)?.sum ?? 0), 0);
  // Float sums of nested wall-clock intervals: equal at most within rounding.
  const covers = (outer: number, inner: number, what: string) => assert.ok(outer >= inner * 0.999, `${what}: ${outer} s ≥ ${inner} s`);
  covers(sum(stitcher, ['cycle']), sum(stitcher, ['fetch_wait', 'durable_wait', 'handle', 'dlq', 'heartbeat']), 'stitcher cycle ⊇ its hops');
  covers(sum(stitcher, ['handle']), sum(stitcher, ['prepare', 'resolve', 'fold', 'encode']), 'stitcher handle ⊇ its phases');
  covers(sum(stitcher, ['durable']), sum(stitcher, ['produce', 'settle', 'commit']), "stitcher chunks' background ⊇ produce, settle, commit");

  // The relay publishes the first-time-buyer entries the segmenter wrote (read between rounds: no round half-recorded).
  const segmenter = await waitUntil('the relay to have published a round', async () => {
    const h = await hops(ports.segmenter);
    const rounds = h.get('relay_cycle')?.count ?? 0;
    return rounds > 0 && rounds === h.get('relay_read')?.count && settled(h) ? h : undefined;
  });
  for (const hop of [
    'fetch_wait',
    'handle',
    'decode',
    'parse',
    'decide',
    'apply',
    'commit',
    'durable',
    'cycle',
    'relay_read',
    'relay_encode',
    'relay_produce',
    'relay_ack',
  ]) {
    assert.ok((segmenter.get(hop)?.count ?? 0) > 0, `segmenter hop ${hop} recorded: ${JSON.stringify([...segmenter])}`);
  }
  covers(sum(segmenter, ['cycle']), sum(segmenter, ['fetch_wait', 'durable_wait', 'handle', 'dlq', 'heartbeat']), 'segmenter cycle ⊇ its hops');
  covers(sum(segmenter, ['durable']), sum(segmenter, ['commit']), "segmenter chunks' background ⊇ commit");
  covers(sum(segmenter, ['relay_cycle']), sum(segmenter, ['relay_read', 'relay_encode', 'relay_produce', 'relay_ack']), 'relay round ⊇ its hops');
  // Per-message hops: one decode per change handled, and a profile's decision per change decoded (the generator's
  // company contacts add an account's apply on top of their profile's: apply is no longer per change).
  assert.ok(segmenter.get('decode')!.count >= segmenter.get('decide')!.count, 'a decode per profile decision');
  assert.ok(segmenter.get('apply')!.count >= segmenter.get('decide')!.count, 'an apply per profile decision');
});
