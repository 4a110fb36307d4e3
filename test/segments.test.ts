/**
 * The segmenter as a real process on the real stack, behind the three stitchers: generated customers end in
 * exactly the oracle's memberships, announced by well-formed event sequences; a replay from offset 0 emits
 * nothing new; kill -9 between the Redis write and the Kafka publish loses nothing; a time-driven exit carries
 * the exact instant as occurred_at, also across a restart.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { REPO_ROOT } from '@profile-stream/consumer-kit';
import { clickEvent } from '@profile-stream/contracts/testing';
import { generate, type GeneratedRecord } from '@profile-stream/generator';
import { profileView, type ProfileDoc } from '@profile-stream/profile';
import { evaluateAll, loadDefinitions, type SegmentDefinition } from '@profile-stream/segments';
import { runCli, spawnTs, waitUntil } from './support/index.ts';
import { oracleProfiles, startService, stopService, waitCommitted } from './support/pipeline.ts';

import { DAY, setup, stitch, membershipEvents, whileRunning, settle, assertWellFormed, type MembershipEvent, type Ctx } from './support/segments.ts';

describe('segmenter end to end', () => {
  let c: Ctx;
  let defs: SegmentDefinition[];
  const records: GeneratedRecord[] = [];
  /** The customers' profile views (survivors), for the backfill's oracle. */
  const views = new Map<string, ReturnType<typeof profileView>>();
  beforeAll(async () => {
    // Small stitcher chunks: more intermediate profile versions, so exits by rule show up too.
    c = await setup('seg', { STITCHER_CHUNK_SIZE: '25' });
    defs = await loadDefinitions(resolve(REPO_ROOT, 'segments'));
  });
  afterAll(() => c.redis.disconnect());

  test("generated customers end in exactly the oracle's memberships; merged profiles exit; kill -9 mid-run loses nothing", async () => {
    const start = Math.floor((Date.now() - 420 * DAY) / DAY) * DAY;
    for (const r of generate({ seed: 505, customers: 90, days: 415, start, junkRate: 0.02, malformedRate: 0, duplicateRate: 0.02 })) records.push(r);
    await stitch(c, records);

    // First run killed with SIGKILL once some membership events went out, then a second run finishes.
    const first = startService(c.childEnv, 'segmenter');
    await waitUntil('first membership events relayed', async () => (await c.memberships.backlog()).outbox === 0 && membershipEvents(c).length > 0, 60_000);
    await stopService(first, 'SIGKILL');
    const second = startService(c.childEnv, 'segmenter');
    await whileRunning(second, async () => {
      await settle(c);
    });

    const now = Date.now();
    const events = membershipEvents(c);
    const seqs = assertWellFormed(events, defs);
    let compared = 0;
    let boundary = 0;
    const survivors = new Set<string>();
    for (const p of oracleProfiles(records)) {
      const [type, ...rest] = p.keys[0]!.split(':');
      const pid = await c.profiles.root((await c.profiles.owner(type as 'email', rest.join(':')))!);
      survivors.add(pid);
      const stored = (await c.profiles.read(pid))!;
      assert.deepEqual(stored.doc, p.doc, 'the stitchers built the oracle profile');
      const view = profileView(p.doc as ProfileDoc, { profile_id: pid, merged_ids: stored.mergedIds });
      views.set(pid, view);
      const evals = evaluateAll(defs, view, now);
      for (const d of defs) {
        const e = evals.get(d.id)!;
        // A flip within seconds of the check may legitimately be on either side of it.
        if (e.nextChangeAt !== null && e.nextChangeAt < now + 5_000) {
          boundary++;
          continue;
        }
        const seq = seqs.get(`${pid} ${d.id}`) ?? [];
        const member = seq.length > 0 && seq[seq.length - 1]!.change === 'entered';
        assert.equal(
          member,
          e.member,
          `${pid} in ${d.id}: events say ${member}, the oracle ${e.member} (events: ${seq.map((x) => `${x.change}/${x.reason}`).join(' ')})`,
        );
        compared++;
      }
      // A merged profile is in no segment any more (it left by rule before, or with reason profile_merged).
      for (const m of stored.mergedIds) {
        assert.match((await c.memberships.read(m)).dead ?? '', /^merged:/, `${m} retired (merged into ${pid})`);
        for (const [k, seq] of seqs) if (k.startsWith(`${m} `)) assert.equal(seq[seq.length - 1]!.change, 'exited', `merged profile ${m} left ${k}`);
      }
    }
    assert.ok(compared > 500 && boundary < 10, `compared ${compared}, at a boundary ${boundary}`);
    // account memberships (entity account) are the accounts', checked in account-segments.test.ts
    for (const pid of new Set(events.filter((e) => e.entity === 'profile').map((e) => e.profile_id))) {
      if (survivors.has(pid)) continue;
      const state = await c.memberships.read(pid);
      assert.match(state.dead ?? '', /^merged:/, `${pid} has membership events but is neither a customer's profile nor merged`);
    }
    // The member sets (segment sizes) agree with the events.
    for (const d of defs) {
      const inNow = [...seqs].filter(([k, seq]) => k.endsWith(` ${d.id}`) && seq[seq.length - 1]!.change === 'entered').length;
      assert.equal((await c.memberships.size(d.id)).members, inNow, `size of ${d.id}`);
    }
    const reasons = new Set(events.map((e) => e.reason));
    for (const r of ['rule_matched', 'rule_unmatched', 'time_elapsed', 'profile_merged'])
      assert.ok(reasons.has(r), `some event has reason ${r} (${[...reasons].join(', ')})`);
  });

  test('the example campaign trigger acts once on each entry it has an action for, and cancels on exit', async () => {
    const child = spawnTs(
      resolve(REPO_ROOT, 'examples/campaign-trigger/src/main.ts'),
      ['--from-beginning', '--max-age-days', '100000', '--until-idle', '4000'],
      {
        ...c.childEnv,
        CAMPAIGN_GROUP_ID: `${c.env.prefix}campaigns`,
        TOPIC_SEGMENT_MEMBERSHIP_CHANGED: c.env.topics['segment-membership-changed'].topic,
      },
    );
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    child.stderr!.on('data', (d) => {
      err += d;
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, err);
    const ids = (verb: string) =>
      out
        .split('\n')
        .filter((l) => l.startsWith(verb))
        .map((l) => /\[([^\]]+)\]$/.exec(l)![1]!)
        .sort();
    const events = membershipEvents(c);
    const expect = (segment: string, change: string) =>
      [...new Set(events.filter((e) => e.segment_id === segment && e.change === change).map((e) => e.event_id))].sort();
    assert.ok(expect('dormant', 'entered').length > 0);
    assert.deepEqual(ids('send win-back to '), expect('dormant', 'entered'));
    assert.deepEqual(ids('start welcome series for '), expect('first-time-buyer', 'entered'));
    assert.deepEqual(ids('cancel cart reminder for '), expect('cart-abandoner', 'exited'));
  });

  test('a replay of profile-changes from offset 0 by a new group emits no new membership event', async () => {
    const before = membershipEvents(c);
    const replay = startService({ ...c.childEnv, SEGMENTER_GROUP_ID: `${c.env.prefix}segmenter-replay` }, 'segmenter');
    await whileRunning(replay, async () => {
      await settle(c, `${c.env.prefix}segmenter-replay`);
    });
    const ids = (es: MembershipEvent[]) => [...new Set(es.map((e) => e.event_id))].sort();
    assert.deepEqual(ids(membershipEvents(c)), ids(before));
  });

  test('segments backfill after a parameter change: the changes go out with reason definition_changed; list and show agree', async () => {
    const params = { 'high-value': { threshold_gbp_minor: 5_000, threshold_eur_minor: 6_000, threshold_usd_minor: 6_500 } };
    const lowered = { ...c.childEnv, SEGMENT_PARAMS: JSON.stringify(params) };
    const listed = () => {
      const r = runCli(['segments', 'list', '--json'], { env: lowered });
      assert.equal(r.status, 0, r.stderr);
      return (JSON.parse(r.stdout) as { segments: { id: string; members: number; state: string }[] }).segments.find((x) => x.id === 'high-value')!;
    };
    assert.equal(listed().state, 'changed: run segments backfill');
    const before = new Set(membershipEvents(c).map((e) => e.event_id));
    const r = runCli(['segments', 'backfill', 'high-value'], { env: lowered });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`high-value: ${views.size} profile\\(s\\) evaluated`));
    const relay = startService({ ...lowered, SEGMENTER_ROLES: 'relay' }, 'segmenter');
    await whileRunning(relay, async () => {
      await waitUntil('outbox relayed', async () => (await c.memberships.backlog()).outbox === 0, 30_000);
    });
    const fresh = membershipEvents(c).filter((e) => !before.has(e.event_id));
    const loweredDef = (await loadDefinitions(resolve(REPO_ROOT, 'segments'), { params })).find((d) => d.id === 'high-value')!;
    const now = Date.now();
    const expected = [...views]
      .filter(([, v]) => evaluateAll([loweredDef], v, now).get('high-value')!.member)
      .map(([pid]) => pid)
      .sort();
    assert.ok(fresh.length > 0, 'a lower threshold lets customers in');
    for (const e of fresh) assert.deepEqual([e.segment_id, e.change, e.reason, e.segment_version], ['high-value', 'entered', 'definition_changed', 1]);
    assert.equal(listed().members, expected.length);
    assert.equal(listed().state, 'current');
    const shown = runCli(['segments', 'show', 'high-value', '-n', '3'], { env: lowered });
    assert.equal(shown.status, 0, shown.stderr);
    const s = JSON.parse(shown.stdout) as { members: number; sample: string[]; params: Record<string, number> };
    assert.equal(s.members, expected.length);
    assert.equal(s.params.threshold_gbp_minor, 5_000);
    assert.equal(s.sample.length, Math.min(3, expected.length));
    for (const pid of s.sample) assert.ok(expected.includes(pid), `${pid} is a member by the oracle`);
  });
});

test('kill -9 of the segmenter between the Redis write and the Kafka publish: the outbox is published after restart', async () => {
  // The relay role is off in the first process: every change is written (membership + outbox) but none published.
  const c = await setup('seg-kill', { SEGMENTER_ROLES: 'evaluate,schedule' });
  try {
    const start = Math.floor((Date.now() - 200 * DAY) / DAY) * DAY;
    await stitch(c, [...generate({ seed: 77, customers: 25, days: 190, start, junkRate: 0, malformedRate: 0, duplicateRate: 0 })]);
    const first = startService(c.childEnv, 'segmenter');
    await waitCommitted(c.env.kafka, `${c.env.prefix}segmenter`, c.env.topics['profile-changes'].topic);
    const pending = (await c.memberships.backlog()).outbox;
    assert.ok(pending > 20, `changes written to the outbox: ${pending}`);
    await stopService(first, 'SIGKILL');
    assert.equal(membershipEvents(c).length, 0, 'nothing was published before the kill');

    const second = startService({ ...c.childEnv, SEGMENTER_ROLES: 'relay' }, 'segmenter');
    await whileRunning(second, async () => {
      await waitUntil('outbox relayed', async () => (await c.memberships.backlog()).outbox === 0, 60_000);
    });
    const events = membershipEvents(c);
    assert.equal(new Set(events.map((e) => e.event_id)).size, pending, 'every outbox record published once (by id)');
    assertWellFormed(events, await loadDefinitions(resolve(REPO_ROOT, 'segments')));
  } finally {
    c.redis.disconnect();
  }
});

test('a time-driven exit carries the exact instant as occurred_at, also when the segmenter was down at that instant', async () => {
  // Two short windows on one visit: the first closes while the segmenter runs, the second while it is down. The
  // visit happens once the segmenter is up (its start-up, slow on a loaded machine, is not part of either window).
  const dir = mkdtempSync(join(tmpdir(), 'segments-'));
  for (const [id, window] of [
    ['seen-20s', '20s'],
    ['seen-45s', '45s'],
  ]) {
    writeFileSync(
      join(dir, `${id}.yaml`),
      [
        `id: ${id}`,
        'version: 1',
        `name: Seen in the last ${window}`,
        'description: A short window for the test.',
        'condition:',
        '  field: activity.last_seen_at',
        `  within_last: ${window}`,
        '',
      ].join('\n'),
    );
  }
  const c = await setup('seg-time', { SEGMENTS_DIR: dir });
  // The membership events as they arrive (a live consumer: polling through the CLI adds seconds per look on a loaded
  // machine).
  const seen: MembershipEvent[] = [];
  const watcher = c.env.kafka.consumer({ groupId: `${c.env.prefix}watch-time`, maxWaitTimeInMs: 100 });
  await watcher.connect();
  await watcher.subscribe({ topic: c.env.topics['segment-membership-changed'].topic, fromBeginning: true });
  await watcher.run({
    eachMessage: async ({ message }) => {
      if (message.value) seen.push((await c.env.registry.decode<MembershipEvent>(message.value)).value);
    },
  });
  try {
    let seg = startService(c.childEnv, 'segmenter');
    await waitUntil('the segmenter to have started', () => seg.started(), 60_000);
    const seenAt = Date.now();
    await stitch(c, [
      {
        topic: 'clickstream',
        key: null,
        value: clickEvent({
          event_id: 'e-visit',
          occurred_at: seenAt,
          user_id: 'visitor-1',
          page: { url: 'https://shop.example/', referrer: null, title: null },
        }),
      },
    ]);
    const exitsOf = (id: string) => seen.filter((e) => e.segment_id === id && e.change === 'exited');
    await whileRunning(seg, async () => {
      await waitUntil('entered both', () => seen.filter((e) => e.change === 'entered').length === 2, 20_000);
      await waitUntil('left seen-20s', () => exitsOf('seen-20s').length === 1, 40_000);
    });
    const stoppedAt = Date.now();
    assert.ok(stoppedAt < seenAt + 45_000, `the first segmenter stopped before the second instant (at +${stoppedAt - seenAt} ms)`);
    // Down across the second due instant, up again after it: the schedule is in Redis.
    await waitUntil('past the second due instant', () => Date.now() > seenAt + 46_000, 50_000);
    seg = startService(c.childEnv, 'segmenter');
    await whileRunning(seg, async () => {
      await waitUntil('left seen-45s', () => exitsOf('seen-45s').length === 1, 30_000);
    });
    const exits = seen.filter((e) => e.change === 'exited').sort((a, b) => a.occurred_at - b.occurred_at);
    assert.deepEqual(
      exits.map((e) => [e.segment_id, e.reason, e.occurred_at, e.membership_version]),
      [
        ['seen-20s', 'time_elapsed', seenAt + 20_000, 2],
        ['seen-45s', 'time_elapsed', seenAt + 45_000, 2],
      ],
    );
    assert.ok(exits[0]!.emitted_at < stoppedAt, 'the first exit came from the segmenter that was running at its instant');
    assert.ok(exits[1]!.emitted_at > seenAt + 46_000, 'the second from the one started after its instant');
    for (const e of exits) assert.ok(e.emitted_at >= e.occurred_at, 'never emitted before it happened');
  } finally {
    await watcher.disconnect();
    c.redis.disconnect();
  }
});
