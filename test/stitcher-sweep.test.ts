/**
 * A merge whose deciding process died right after the identity index decided it, for a customer with no further
 * events: a running stitcher's sweep finishes it (data moved, merged profile cleaned up), announces it on
 * profile-merged, publishes the survivor's new version on profile-changes (cause merge, the merged id listed, so the
 * segmenter retires it) and settles the journal.
 */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { Redis } from 'ioredis';
import { ProfileStore } from '@profile-stream/profile';
import { Crash, Gates, snapshot, violations } from '@profile-stream/profile/testing';
import { runCli, testEnv, waitUntil } from './support/index.ts';
import { startService, stopService } from './support/pipeline.ts';

test('the sweep finishes, announces and settles a merge its decider left behind', async () => {
  const env = await testEnv('sweep');
  const prefix = `${env.prefix}ps:`;
  const redis = new Redis(env.conn.redis.url);
  const order = (id: string, amount: number) => ({
    event_id: id,
    occurred_at: Date.now() - 60_000,
    fragment: { hw: Date.now() - 60_000, transactions: { revenue_minor: { GBP: amount } } },
  });
  try {
    const store = new ProfileStore({ redis, prefix, windowMs: 90 * 86_400_000 });
    const s = (await store.resolver.resolve({ user_id: 'U' })).profileId;
    await store.fold(s, [order('s1', 10)]);
    const m = (await store.resolver.resolve({ email: 'e@x.com' })).profileId;
    await store.fold(m, [order('m1', 1000)]);
    const gates = new Gates();
    gates.crash('merge:prepare');
    const dying = new ProfileStore({ redis, prefix, windowMs: 90 * 86_400_000, gate: gates.gate });
    await assert.rejects(dying.resolver.resolve({ user_id: 'U', email: 'e@x.com' }, { eventId: 'link-1', occurredAt: Date.now() - 30_000 }), Crash);
    assert.equal((await store.resolver.pending()).length, 1, 'the decided merge is in the journal');

    const svc = startService(
      { ...env.childEnv, REDIS_PREFIX: prefix, STITCHER_GROUP_ID: `${env.prefix}cs`, STITCHER_OPS_PORT: '0', STITCHER_SWEEP_MS: '1000' },
      'clickstream',
    );
    try {
      await waitUntil('the journal settled', async () => (await store.resolver.pending()).length === 0, 60_000);
    } finally {
      assert.equal(await stopService(svc), 0, svc.stderr());
    }
    const [survivor, merged] = s < m ? [s, m] : [m, s];
    const p = await store.read(survivor);
    assert.deepEqual(p?.doc.transactions, { revenue_minor: { GBP: 1010 } });
    assert.deepEqual(p?.mergedIds, [merged]);
    assert.deepEqual(violations(await snapshot(redis, store.keys), { settled: true }), []);

    const consume = (topic: string) => {
      const r = runCli(['consume', topic], { env: env.childEnv });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    };
    const merges = consume(env.topics['profile-merged'].topic);
    assert.deepEqual(
      merges.map((x) => [x.event_id, x.outcome, x.profile_id, x.merged_profile_id, x.trigger_event_id]),
      [[`merged:${survivor}<${merged}:link-1`, 'merged', survivor, merged, 'link-1']],
    );
    const changes = consume(env.topics['profile-changes'].topic);
    assert.deepEqual(
      changes.map((x) => [x.profile_id, x.cause, x.profile_version, (JSON.parse(String(x.profile_json)) as { merged_ids: string[] }).merged_ids]),
      [[survivor, 'merge', p!.version, [merged]]],
    );
  } finally {
    redis.disconnect();
  }
});
