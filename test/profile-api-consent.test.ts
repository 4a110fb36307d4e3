/**
 * Consent through the profile API, end to end on the real stack: the profile-api and the segmenter as processes, a
 * profile made as a stitcher makes it, then `PUT /v1/profiles/:ref/consent` over HTTP. A grant enters the consent-gated
 * `email-reachable`, a withdrawal exits it with reason `consent_withdrawn` (the change reached the segmenter as a
 * `profile-changes` record with cause `consent`), an older change than the one held changes nothing, and bad input is
 * refused naming the field.
 */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, test } from 'vitest';
import { cell } from '@profile-stream/profile';
import { cliKey } from './support/api.ts';
import { runCli, waitUntil } from './support/index.ts';
import { startService, stopService, type ServiceProcess } from './support/pipeline.ts';
import { membershipEvents, settle, setup, type Ctx } from './support/segments.ts';

const HOUR = 3_600_000;
let c: Ctx;
let api: ServiceProcess;
let segmenter: ServiceProcess;
let base: string;
let pid: string;
const key = { consent: '', read: '' };

const put = (ref: string, body: unknown, k = key.consent) =>
  fetch(`${base}/v1/profiles/${encodeURIComponent(ref)}/consent`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  c = await setup('apic', { PROFILE_API_PORT: '0', LOG_LEVEL: 'info' });
  // A customer with an e-mail and no consent decision yet, as a stitcher leaves it.
  const t = Date.now() - 48 * HOUR;
  pid = (await c.profiles.resolver.resolve({ email: 'ada@example.com' })).profileId;
  await c.profiles.fold(pid, [{ event_id: 'seed-1', occurred_at: t, fragment: { hw: t, identity: { emails: { 'ada@example.com': t } } } }]);
  key.consent = cliKey(c.childEnv, 'consent').key;
  key.read = cliKey(c.childEnv, 'read').key;
  segmenter = startService(c.childEnv, 'segmenter');
  api = startService(c.childEnv, 'profile-api');
  const port = await waitUntil('the profile-api to listen', () => /"port":(\d+)[^\n]*profile-api started/.exec(api.stderr())?.[1], 60_000);
  base = `http://127.0.0.1:${port}`;
  await waitUntil('the segmenter to have started', () => segmenter.started(), 60_000);
}, 120_000);

afterAll(async () => {
  const codes = [await stopService(api), await stopService(segmenter)];
  await c.redis.quit();
  assert.deepEqual(codes, [0, 0], `both drain and exit 0:\n${api.stderr().slice(-2000)}\n${segmenter.stderr().slice(-2000)}`);
});

test('a grant enters email-reachable, a withdrawal exits it with reason consent_withdrawn; an older change changes nothing', async () => {
  const grantedAt = new Date(Date.now() - 2 * HOUR).toISOString();
  const granted = await put('email:Ada@Example.com', { purpose: 'email', granted: true, at: grantedAt, source: 'support-call' });
  assert.equal(granted.status, 200, await granted.clone().text());
  const g = (await granted.json()) as { profile_id: string; applied: boolean; consent: { granted: boolean; source: string; at: string } };
  assert.equal(g.profile_id, pid);
  assert.equal(g.applied, true);
  assert.deepEqual(g.consent, { granted: true, source: 'support-call', at: grantedAt });
  await settle(c);
  await waitUntil('email-reachable entered', () => membershipEvents(c).some((e) => e.segment_id === 'email-reachable' && e.change === 'entered') || undefined);

  const withdrawnAt = Date.now() - HOUR;
  const withdrawn = await put(pid, { purpose: 'email', granted: false, at: new Date(withdrawnAt).toISOString() });
  assert.equal(withdrawn.status, 200, await withdrawn.clone().text());
  assert.equal(((await withdrawn.json()) as { consent: { source: string } }).consent.source, 'api', 'the default source');
  await settle(c);
  const exit = await waitUntil('email-reachable exited', () => membershipEvents(c).find((e) => e.segment_id === 'email-reachable' && e.change === 'exited'));
  assert.equal(exit.reason, 'consent_withdrawn');
  assert.equal(exit.profile_id, pid);
  assert.equal(exit.occurred_at, withdrawnAt, 'the exit happens at the moment the consent was withdrawn');
  assert.match(exit.trigger_event_id ?? '', /^api-consent:/);

  // The changes went out on profile-changes with cause consent, each with its profile version.
  const r = runCli(['consume', c.env.topics['profile-changes'].topic], { env: c.childEnv });
  assert.equal(r.status, 0, r.stderr);
  const changes = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { profile_id: string; cause: string; changed_sections: string[]; profile_json: string });
  const consent = changes.filter((x) => x.cause === 'consent');
  assert.equal(consent.length, 2);
  assert.ok(consent.every((x) => x.profile_id === pid && x.changed_sections.join() === 'consent'));
  assert.deepEqual((JSON.parse(consent[1]!.profile_json) as { consent: unknown }).consent, {
    email: { granted: false, source: 'api', at: new Date(withdrawnAt).toISOString() },
  });

  // A change older than the one the profile holds for that purpose: answered, not applied, the withdrawal stands.
  const stale = await put(pid, { purpose: 'email', granted: true, at: new Date(withdrawnAt - 30 * 60_000).toISOString() });
  assert.equal(stale.status, 200);
  const s = (await stale.json()) as { applied: boolean; consent: { granted: boolean } };
  assert.equal(s.applied, false);
  assert.equal(s.consent.granted, false);
  const p = await c.profiles.read(pid);
  assert.deepEqual((p!.doc as { consent: unknown }).consent, { email: cell({ granted: false, source: 'api' }, withdrawnAt, exit.trigger_event_id!) });
});

test('bad consent changes are refused naming the field; the consent scope is required; an unknown ref is a 404', async () => {
  const future = await put(pid, { purpose: 'email', granted: true, at: new Date(Date.now() + 10 * 60_000).toISOString() });
  assert.equal(future.status, 400);
  assert.match(((await future.json()) as { detail: string }).detail, /body\/at: .* is in the future/);
  const purpose = await put(pid, { purpose: 'telepathy', granted: true });
  assert.equal(purpose.status, 400);
  assert.match(((await purpose.json()) as { detail: string }).detail, /purpose/);
  const missing = await put(pid, { purpose: 'sms' });
  assert.equal(missing.status, 400);
  assert.match(((await missing.json()) as { detail: string }).detail, /granted/);
  assert.equal((await put(pid, { purpose: 'sms', granted: true }, key.read)).status, 403);
  assert.equal((await put('email:nobody@example.com', { purpose: 'sms', granted: true })).status, 404);
});
