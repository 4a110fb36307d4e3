/**
 * The segmenter's Redis goes away while profile changes keep arriving: it commits nothing it has not applied,
 * publishes nothing, does not crash, and resumes by itself; the memberships then equal those of the profiles.
 * The segmenter uses a Redis server of its own (stopped and started here); the stitchers use the stack's.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { afterAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { REPO_ROOT } from '@profile-stream/consumer-kit';
import { generate, type GeneratedRecord } from '@profile-stream/generator';
import { ProfileStore, profileView, type ProfileDoc } from '@profile-stream/profile';
import { evaluateAll, loadDefinitions } from '@profile-stream/segments';
import { MembershipStore } from '@profile-stream/segmenter';
import { runCli, testEnv, waitUntil } from './support/index.ts';
import { INPUTS, oracleProfiles, produceRecords, startService, stopService, waitCommitted } from './support/pipeline.ts';
import { freePort, ownRedis, type OwnRedis } from './support/redis-server.ts';

const DAY = 86_400_000;
let own: OwnRedis | undefined;
afterAll(() => own?.kill());

test('Redis down under the segmenter: no offset moves, nothing is published, it resumes and ends right', async () => {
  const env = await testEnv('seg-outage');
  own = ownRedis(await freePort());
  await own.start();
  const prefix = `${env.prefix}ps:`;
  const stitchEnv = { ...env.childEnv, REDIS_PREFIX: prefix, STITCHER_OPS_PORT: '0', PROFILE_DEDUP_WINDOW_DAYS: '3650' };
  const segEnv = {
    ...env.childEnv,
    REDIS_PREFIX: prefix,
    REDIS_URL: own.url,
    SEGMENTER_OPS_PORT: '0',
    SEGMENTER_SHARDS: '4',
    SEGMENTER_GROUP_ID: `${env.prefix}seg`,
  };
  const changes = env.topics['profile-changes'].topic;
  const stitch = async (records: GeneratedRecord[]) => {
    await produceRecords(env, records);
    const services = INPUTS.map((n) => startService({ ...stitchEnv, STITCHER_GROUP_ID: `${env.prefix}${n}` }, n));
    for (const n of INPUTS) await waitCommitted(env.kafka, `${env.prefix}${n}`, env.topics[n].topic);
    for (const s of services) assert.equal(await stopService(s), 0, s.stderr());
  };
  const published = () => {
    const r = runCli(['consume', env.topics['segment-membership-changed'].topic], { env: segEnv });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { profile_id: string; segment_id: string; change: string; membership_version: number });
  };
  // History that ended days ago: no clock-driven flip falls inside the test.
  const start = Math.floor((Date.now() - 300 * DAY) / DAY) * DAY;
  const all = [...generate({ seed: 31, customers: 40, days: 290, start, malformedRate: 0, junkRate: 0, duplicateRate: 0 })];
  const half = Math.floor(all.length / 2);

  await stitch(all.slice(0, half));
  const seg = startService(segEnv, 'segmenter');
  try {
    await waitCommitted(env.kafka, `${env.prefix}seg`, changes);
    const probe = new Redis(own.url);
    await waitUntil('outbox relayed', async () => (await new MembershipStore(probe, { prefix, shards: 4 }).backlog()).outbox === 0, 30_000);
    probe.disconnect();
    const before = published().length;
    assert.ok(before > 0);

    await own.stop();
    await stitch(all.slice(half));
    const admin = env.kafka.admin();
    await admin.connect();
    const committed = async () =>
      (await admin.fetchOffsets({ groupId: `${env.prefix}seg`, topics: [changes] }))[0]!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
    const atStop = await committed();
    await new Promise((r) => setTimeout(r, 4000)); // the outage lasts a while; the segmenter keeps retrying
    assert.equal(await committed(), atStop, 'no offset moved while Redis was down');
    await admin.disconnect();
    assert.equal(published().length, before, 'nothing published while Redis was down');
    assert.equal(seg.child.exitCode, null, 'still running (no crash loop)');

    await own.start();
    await waitCommitted(env.kafka, `${env.prefix}seg`, changes, 90_000);
    const redis = new Redis(own.url);
    const memberships = new MembershipStore(redis, { prefix, shards: 4 });
    await waitUntil('outbox relayed', async () => (await memberships.backlog()).outbox === 0, 30_000);

    // Final memberships (from the events) = the definitions evaluated over the stitched profiles.
    const shared = new Redis(env.conn.redis.url);
    try {
      const profiles = new ProfileStore({ redis: shared, prefix, windowMs: 3650 * DAY });
      const defs = await loadDefinitions(resolve(REPO_ROOT, 'segments'));
      const last = new Map<string, { change: string; membership_version: number }>();
      for (const e of published()) {
        const k = `${e.profile_id} ${e.segment_id}`;
        if ((last.get(k)?.membership_version ?? 0) < e.membership_version) last.set(k, e);
      }
      const now = Date.now();
      let compared = 0;
      for (const p of oracleProfiles(all)) {
        const [type, ...rest] = p.keys[0]!.split(':');
        const pid = await profiles.root((await profiles.owner(type as 'email', rest.join(':')))!);
        const stored = (await profiles.read(pid))!;
        const evals = evaluateAll(defs, profileView(stored.doc as ProfileDoc, { profile_id: pid, merged_ids: stored.mergedIds }), now);
        for (const d of defs) {
          const e = evals.get(d.id)!;
          if (e.nextChangeAt !== null && e.nextChangeAt < now + 5_000) continue;
          assert.equal(last.get(`${pid} ${d.id}`)?.change === 'entered', e.member, `${pid} in ${d.id}`);
          compared++;
        }
      }
      assert.ok(compared > 300, `compared ${compared}`);
    } finally {
      shared.disconnect();
      redis.disconnect();
    }
  } finally {
    assert.equal(await stopService(seg), 0, seg.stderr());
  }
});
