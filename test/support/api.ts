/**
 * Profile API test support: the API's dependencies on a test's Redis prefix, keys made with the CLI as an operator
 * makes them, and generated customers stitched into profiles the way a stitcher does it.
 */
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { type ApiDeps, ApiKeyStore, createApiMetrics } from '@profile-stream/api';
import type { Logger } from '@profile-stream/consumer-kit';
import { generate } from '@profile-stream/generator';
import { eventFragment, hasIdentifier, normaliseIdentifiers, type ProfileStore, profileView, type Resolution, type StitchItem } from '@profile-stream/profile';
import { MembershipStore } from '@profile-stream/segmenter';
import { runCli } from './index.ts';

const DAY = 86_400_000;
export const GB = { defaultRegion: 'GB', blocklist: new Set<string>() };

/** The parts of a profile's view (`GET /v1/profiles/:ref`, `profile --json`) the tests look at. */
export type View = { profile_id: string; merged_ids: string[]; identity: { user_ids: string[]; emails: string[]; phones: string[]; anonymous_ids: string[] } };

/** The API's dependencies on `prefix`: its own key store and memberships there, no segment definitions; `over` changes any. */
export function apiDeps(o: { redis: Redis; prefix: string; store: ProfileStore; log: Logger }, over: Partial<ApiDeps> = {}): ApiDeps {
  return {
    redis: o.redis,
    prefix: o.prefix,
    store: o.store,
    keys: new ApiKeyStore({ redis: o.redis, prefix: o.prefix }),
    memberships: new MembershipStore(o.redis, { prefix: o.prefix, shards: 16 }),
    defs: [],
    normalise: GB,
    metrics: createApiMetrics(),
    log: o.log,
    rateLimitPerMinute: 1000,
    ...over,
  };
}

/** A key made with `apikey create` (env: the CLI's, with the test's REDIS_PREFIX). */
export function cliKey(env: NodeJS.ProcessEnv, scopes: string): { id: string; key: string; scopes: string[] } {
  const r = runCli(['apikey', 'create', '--scopes', scopes, '--name', 'test', '--json'], { env });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { id: string; key: string; scopes: string[] };
}

/** Generated customers into profiles the way a stitcher does it: normalise, resolve the chunk, fold its fragments. */
export async function stitchGenerated(store: ProfileStore, seed: number): Promise<void> {
  const start = Math.floor((Date.now() - 30 * DAY) / DAY) * DAY;
  const items: StitchItem[] = [];
  for (const r of generate({ seed, customers: 40, days: 20, start, junkRate: 0, malformedRate: 0, duplicateRate: 0 })) {
    if ('malformed' in r) continue;
    const { dropped: _dropped, ...ids } = normaliseIdentifiers(r.value, GB);
    if (!hasIdentifier({ ...ids, dropped: [] })) continue;
    const fragment = (res: Resolution) => {
      const kept = { ...ids, dropped: [] };
      for (const x of res.dropped) delete kept[x.type];
      return eventFragment(r.topic, r.value as never, kept);
    };
    items.push({ ids, eventId: r.value.event_id, occurredAt: r.value.occurred_at, fragment });
  }
  for (let i = 0; i < items.length; i += 500) {
    const chunk = await store.stitch(items.slice(i, i + 500));
    await store.resolver.settle(chunk.merges);
  }
}

/** A stitched customer with every kind of identifier (a user id, an e-mail, a UK phone and an anonymous id). */
export async function richView(store: ProfileStore): Promise<View> {
  for (const pid of await store.profileIds()) {
    const p = await store.read(pid);
    if (!p || p.profileId !== pid) continue;
    const v = profileView(p.doc as never, { profile_id: p.profileId, merged_ids: p.mergedIds }) as unknown as View;
    const id = v.identity;
    if (id.user_ids.length && id.emails.length && id.phones.some((x) => x.startsWith('+44')) && id.anonymous_ids.length) return v;
  }
  assert.fail('the generated data has a customer with user id, e-mail, UK phone and anonymous id');
}
