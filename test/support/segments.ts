/** What the segmenter end-to-end tests share: a context per test, stitching, reading membership events, checks. */
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { GeneratedRecord } from '@profile-stream/generator';
import { ProfileStore } from '@profile-stream/profile';
import { ACCOUNT_SEGMENTS, type SegmentDefinition } from '@profile-stream/segments';
import { type Decision, MembershipStore, ShardLeases } from '@profile-stream/segmenter';
import { runCli, testEnv, waitUntil, type TestEnv } from './index.ts';
import { INPUTS, produceRecords, startService, stopService, waitCommitted, type ServiceProcess } from './pipeline.ts';

export const DAY = 86_400_000;

export interface MembershipEvent {
  event_id: string;
  /** A profile id, or for entity account the account id (its memberships are the member `account:<id>`). */
  profile_id: string;
  entity: 'profile' | 'account';
  segment_id: string;
  segment_version: number;
  change: 'entered' | 'exited';
  reason: string;
  membership_version: number;
  occurred_at: number;
  emitted_at: number;
  trigger_event_id: string | null;
  traits: Record<string, string>;
}

export interface Ctx {
  env: TestEnv;
  redis: Redis;
  profiles: ProfileStore;
  memberships: MembershipStore;
  childEnv: NodeJS.ProcessEnv;
}

export async function setup(name: string, extra: NodeJS.ProcessEnv = {}): Promise<Ctx> {
  const env = await testEnv(name);
  const prefix = `${env.prefix}ps:`;
  const childEnv: NodeJS.ProcessEnv = {
    ...env.childEnv,
    LOG_LEVEL: 'info',
    REDIS_PREFIX: prefix,
    STITCHER_OPS_PORT: '0',
    SEGMENTER_OPS_PORT: '0',
    SEGMENTER_SHARDS: '4',
    PROFILE_DEDUP_WINDOW_DAYS: '3650',
    SEGMENTER_GROUP_ID: `${env.prefix}segmenter`,
    ...extra,
  };
  const redis = new Redis(env.conn.redis.url);
  return {
    env,
    redis,
    childEnv,
    profiles: new ProfileStore({ redis, prefix, windowMs: 3650 * DAY }),
    memberships: new MembershipStore(redis, { prefix, shards: 4 }),
  };
}

export async function stitch(c: Ctx, records: GeneratedRecord[]): Promise<void> {
  await produceRecords(c.env, records);
  const services: ServiceProcess[] = INPUTS.map((n) => startService({ ...c.childEnv, STITCHER_GROUP_ID: `${c.env.prefix}${n}` }, n));
  try {
    for (const n of INPUTS) await waitCommitted(c.env.kafka, `${c.env.prefix}${n}`, c.env.topics[n].topic);
  } finally {
    for (const s of services) assert.equal(await stopService(s), 0, s.stderr());
  }
}

export function membershipEvents(c: Ctx): MembershipEvent[] {
  const r = runCli(['consume', c.env.topics['segment-membership-changed'].topic], { env: c.childEnv });
  assert.equal(r.status, 0, r.stderr);
  // The CLI prints times as ISO-8601; back to epoch ms.
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const e = JSON.parse(l) as MembershipEvent & { occurred_at: string; emitted_at: string };
      return { ...e, occurred_at: Date.parse(e.occurred_at), emitted_at: Date.parse(e.emitted_at) };
    });
}

/**
 * Runs `fn` while `svc` runs, then stops it: it must drain and exit 0. When `fn` fails the service is stopped and
 * `fn`'s error is what the test reports (with the service's stderr).
 */
export async function whileRunning(svc: ServiceProcess, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
    // A signal during Node's own start-up (before any code of ours runs) kills the process: stop it once it is up.
    await waitUntil('the service to have started', () => svc.started(), 60_000);
  } catch (err) {
    await stopService(svc);
    throw Object.assign(err as Error, { message: `${(err as Error).message}\n--- service stderr ---\n${svc.stderr()}` });
  }
  assert.equal(await stopService(svc), 0, svc.stderr());
}

/** Waits until the segmenter has committed profile-changes, nothing is due and the outbox is empty. */
export async function settle(c: Ctx, group = `${c.env.prefix}segmenter`): Promise<void> {
  await waitCommitted(c.env.kafka, group, c.env.topics['profile-changes'].topic);
  await waitUntil(
    'nothing due and the outbox relayed',
    async () => {
      const b = await c.memberships.backlog();
      return b.outbox === 0 && (b.nextDue === null || b.nextDue > Date.now() + 2000);
    },
    60_000,
  );
  // A tick handed on just before the check is in profile-changes: wait for it, then for what it wrote.
  await waitCommitted(c.env.kafka, group, c.env.topics['profile-changes'].topic);
  await waitUntil('the outbox relayed', async () => (await c.memberships.backlog()).outbox === 0, 60_000);
}

/** Sequences per (profile, segment): versions 1..n, entered/exited alternating from entered, time never back. */
export function assertWellFormed(events: MembershipEvent[], defs: readonly SegmentDefinition[]): Map<string, MembershipEvent[]> {
  const byId = new Map<string, MembershipEvent>();
  for (const e of events) {
    const prev = byId.get(e.event_id);
    if (prev) assert.deepEqual({ ...e, emitted_at: 0 }, { ...prev, emitted_at: 0 }, `a duplicate of ${e.event_id} differs`);
    byId.set(e.event_id, e);
  }
  const seqs = new Map<string, MembershipEvent[]>();
  for (const e of byId.values()) {
    const member = e.entity === 'account' ? `account:${e.profile_id}` : e.profile_id;
    assert.equal(e.event_id, `${member}:${e.segment_id}:m${e.membership_version}`);
    const segments: readonly { id: string; version: number }[] = e.entity === 'account' ? ACCOUNT_SEGMENTS : defs;
    assert.equal(e.segment_version, segments.find((d) => d.id === e.segment_id)?.version, `segment ${e.segment_id}`);
    const k = `${member} ${e.segment_id}`;
    seqs.set(k, [...(seqs.get(k) ?? []), e]);
  }
  for (const [k, list] of seqs) {
    list.sort((a, b) => a.membership_version - b.membership_version);
    list.forEach((e, i) => {
      assert.equal(e.membership_version, i + 1, `${k}: versions without gaps`);
      assert.equal(e.change, i % 2 === 0 ? 'entered' : 'exited', `${k}: v${e.membership_version} alternates`);
      if (i > 0) assert.ok(e.occurred_at >= list[i - 1]!.occurred_at, `${k}: occurred_at never goes back`);
    });
  }
  return seqs;
}

/** A decision that the member is in `segment` (definition version 1, by rule, now): what relay tests fill outboxes with. */
export const entered = (segment: string): Decision => ({
  segment,
  definitionVersion: 1,
  member: true,
  reason: 'rule_matched',
  occurredAt: Date.now(),
  nextChangeAt: null,
  traits: {},
});

/** The relay leases of every shard, held by `relay-1` (started: every shard owned), as the relay tests take them. */
export async function relayLeases(redis: Redis, memberships: MembershipStore, shards: number, log: TestEnv['log']): Promise<ShardLeases> {
  const leases = new ShardLeases(redis, {
    key: (s) => memberships.keys.shard(s).lease.relay,
    shards,
    owner: 'relay-1',
    ttlMs: 120_000,
    log,
    name: 'relay',
  });
  await leases.start();
  return leases;
}
