/**
 * Account segments through the real services (issue 15): generated companies through the three stitchers, then the
 * segmenter evaluates each contact's account on its profile change; membership events of account segments carry
 * `entity: account` and the account id, the profile segments' `entity: profile`. new-account holds exactly the accounts
 * first seen less than 30 days ago (the account profiles in Redis say when).
 */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, test } from 'vitest';
import { generate, type GeneratedRecord } from '@profile-stream/generator';
import { resolve } from 'node:path';
import { REPO_ROOT } from '@profile-stream/consumer-kit';
import { AccountStore } from '@profile-stream/profile';
import { loadDefinitions } from '@profile-stream/segments';
import { startService } from './support/pipeline.ts';
import { assertWellFormed, DAY, membershipEvents, settle, setup, stitch, whileRunning, type Ctx } from './support/segments.ts';

let c: Ctx;
beforeAll(async () => {
  c = await setup('acct-seg');
});
afterAll(() => c.redis.disconnect());

test('account segments: entity account, the account id, new-account exactly for accounts first seen within 30 days', async () => {
  const records: GeneratedRecord[] = [];
  const start = Math.floor((Date.now() - 45 * DAY) / DAY) * DAY;
  for (const r of generate({ seed: 1516, customers: 60, days: 40, start, companyShare: 0.5 })) records.push(r);
  await stitch(c, records);
  const before = Date.now();
  const svc = startService(c.childEnv, 'segmenter');
  await whileRunning(svc, () => settle(c));
  const after = Date.now();

  const accounts = new AccountStore(c.redis, String(c.childEnv.REDIS_PREFIX));
  const firstSeen = new Map<string, number>();
  for (const id of await accounts.list()) {
    const v = await accounts.view(id, after);
    if (v?.first_seen_at != null) firstSeen.set(id, v.first_seen_at);
  }
  assert.ok(firstSeen.size >= 3, `${firstSeen.size} accounts`);

  const events = membershipEvents(c);
  assertWellFormed(events, await loadDefinitions(resolve(REPO_ROOT, 'segments')));
  const ofAccounts = events.filter((e) => e.entity === 'account');
  assert.ok(
    events.some((e) => e.entity === 'profile'),
    'profile segments still say profile',
  );
  for (const e of ofAccounts) {
    assert.ok(['key-account', 'account-at-risk', 'new-account'].includes(e.segment_id), e.segment_id);
    assert.ok(firstSeen.has(e.profile_id), `${e.profile_id} is an account id`);
  }
  for (const e of events.filter((x) => x.entity === 'profile')) assert.ok(!['key-account', 'account-at-risk', 'new-account'].includes(e.segment_id));

  // new-account members now: entered and not exited since
  const isNew = new Set<string>();
  for (const e of ofAccounts.filter((x) => x.segment_id === 'new-account').sort((a, b) => a.membership_version - b.membership_version)) {
    if (e.change === 'entered') isNew.add(e.profile_id);
    else isNew.delete(e.profile_id);
  }
  let checked = 0;
  for (const [id, first] of firstSeen) {
    const end = first + 30 * DAY;
    if (end > before && end <= after) continue; // its 30 days ended while the segmenter ran: either answer is right
    assert.equal(isNew.has(id), end > after, `${id} first seen ${new Date(first).toISOString()}`);
    checked++;
  }
  assert.ok(checked >= 3);
  assert.ok(isNew.size >= 1, 'some account is new');
  assert.ok(isNew.size < firstSeen.size, 'and some is not');
});
