// The loyalty tables (migration 0007) on embedded chDB: loyaltyRows → loyalty_events → daily_loyalty_points, and the
// analyst queries, against answers computed here from the events; the liability per tier also agrees with the
// profiles' own balance and tier (the profile fold of the same events). Bad input is refused with the stitchers' codes.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { openClickHouse, type ClickHouseClient } from '@profile-stream/clickhouse';
import { createLogger, REPO_ROOT } from '@profile-stream/consumer-kit';
import type { LoyaltyEvent } from '@profile-stream/contracts';
import { loyaltyEvent } from '@profile-stream/contracts/testing';
import { foldEvents, normaliseIdentifiers, profileView } from '@profile-stream/profile';
import { migrate } from './migrations.ts';
import { piiStorer } from './pii.ts';
import { ANALYST_QUERIES, analystSql } from './queries.ts';
import { loyaltyRows, type RowOptions } from './rows.ts';
import { insertRows } from './sink.ts';

const log = createLogger({ name: 'loyalty-warehouse-test', level: 'silent' });
const DB = 'loyalty_test';
const D = 86_400_000;
const T0 = Date.UTC(2025, 2, 1);
let client: ClickHouseClient;
const o: RowOptions = { storePii: piiStorer('hash', 'k'), defaultRegion: 'GB', blocklist: new Set(), now: T0 + 400 * D, maxFutureMs: D };

beforeAll(async () => {
  client = openClickHouse({ dataDir: join(mkdtempSync(join(tmpdir(), 'ps-loyalty-')), 'chdb') }).client;
  await migrate(client, { database: DB, dir: resolve(REPO_ROOT, 'infra/clickhouse'), log });
  await client.command({ query: `USE ${DB}` });
});
afterAll(async () => {
  await client.close();
});

let n = 0;
function ev(user: string, type: LoyaltyEvent['type'], at: number, f: Partial<LoyaltyEvent> = {}): LoyaltyEvent {
  return loyaltyEvent({ event_id: `w-${n++}`, occurred_at: at, user_id: user, email: `${user}@example.com`, member_id: `M-${user}`, type, ...f });
}

/** Three members: one promoted, one overdrawn (a redemption whose earn is missing), one who left. */
const EVENTS: LoyaltyEvent[] = [
  ev('a', 'enrolled', T0, { tier: 'bronze' }),
  ev('a', 'points_earned', T0 + D, { points: 400, tier: 'bronze', order_id: 'o1', expires_at: T0 + 366 * D }),
  ev('a', 'tier_changed', T0 + 2 * D, { tier: 'silver' }),
  ev('a', 'points_redeemed', T0 + 2 * D, { points: 150, tier: 'silver' }),
  ev('b', 'enrolled', T0, { tier: 'bronze' }),
  ev('b', 'points_earned', T0 + D, { points: 100, tier: 'bronze' }),
  ev('b', 'points_redeemed', T0 + D, { points: 180, tier: 'bronze' }),
  ev('c', 'enrolled', T0, { tier: 'gold' }),
  ev('c', 'points_earned', T0 + D, { points: 50 }),
  ev('c', 'left', T0 + 3 * D),
];

const rows = <T>(q: string) => client.query({ query: q, format: 'JSONEachRow' }).then((r) => r.json<T>());

describe('loyalty in the warehouse', () => {
  it('rows, the daily aggregate by tier and the liability by tier', async () => {
    await insertRows(
      client,
      'loyalty_events',
      EVENTS.flatMap((e) => loyaltyRows(e, o).loyalty_events!),
    );
    const q = (id: string) => analystSql(ANALYST_QUERIES.find((x) => x.id === id)!);
    const daily = await rows<{ day: string; tier: string; earned: string; redeemed: string }>(q('loyalty_points_by_tier_day'));
    const got = daily.map((r) => [r.day, r.tier, Number(r.earned), Number(r.redeemed)]);
    assert.deepEqual(got, [
      ['2025-03-02', '(unknown)', 50, 0],
      ['2025-03-02', 'bronze', 500, 180],
      ['2025-03-03', 'silver', 0, 150],
    ]);
    const liability = await rows<{ tier: string; members: string; points_liability: string; overdrawn_members: string }>(q('points_liability_by_tier'));
    assert.deepEqual(
      liability.map((r) => [r.tier, Number(r.members), Number(r.points_liability), Number(r.overdrawn_members)]),
      [
        ['bronze', 1, -80, 1],
        ['silver', 1, 250, 0],
      ],
    );
    // The same balances and tiers as the profiles of the same events.
    for (const user of ['a', 'b']) {
      const mine = EVENTS.filter((e) => e.user_id === user).map((event) => ({ topic: 'loyalty' as const, event, ids: normaliseIdentifiers(event, o) }));
      const view = profileView(foldEvents(mine), { profile_id: user, merged_ids: [] }) as { loyalty: { tier: string; points_balance: number } };
      const row = liability.find((r) => r.tier === view.loyalty.tier)!;
      assert.equal(Number(row.points_liability), view.loyalty.points_balance);
    }
  });

  it('refuses what the stitchers refuse, with the same codes', () => {
    assert.throws(() => loyaltyRows(ev('a', 'points_earned', T0, { points: 0 }), o), { code: 'invalid_points' });
    assert.throws(() => loyaltyRows(ev('a', 'tier_changed', T0, { tier: 'diamond' }), o), { code: 'unknown_tier' });
    assert.doesNotThrow(() => loyaltyRows(ev('a', 'tier_changed', T0, { tier: 'diamond' }), { ...o, loyaltyTiers: ['diamond'] }));
  });
});
