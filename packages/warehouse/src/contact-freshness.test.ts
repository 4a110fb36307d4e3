// contact_freshness_by_month (migration 0006) through its analyst query on embedded chDB, against the same answer computed here from the
// snapshots themselves: per month, as of its end, each profile's latest snapshot; stale when its newest contact
// confirmation is 365 days old or more; profiles merged into another by then left out; erasure removes a profile.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, test } from 'vitest';
import { openClickHouse, type ClickHouseClient } from '@profile-stream/clickhouse';
import { createLogger, REPO_ROOT } from '@profile-stream/consumer-kit';
import type { ProfileChanged } from '@profile-stream/contracts';
import { eraseProfile } from './erase.ts';
import { migrate } from './migrations.ts';
import { piiStorer, tombstoner } from './pii.ts';
import { ANALYST_QUERIES, analystSql } from './queries.ts';
import { profileRows } from './rows.ts';
import { insertRows } from './sink.ts';

const log = createLogger({ name: 'contact-freshness-test', level: 'silent' });
const KEY = 'contact-freshness-test-key';
const D = 86_400_000;
const DB = 'contact_freshness';
let client: ClickHouseClient;

beforeAll(async () => {
  client = openClickHouse({ dataDir: join(mkdtempSync(join(tmpdir(), 'ps-freshness-')), 'chdb') }).client;
  await migrate(client, { database: DB, dir: resolve(REPO_ROOT, 'infra/clickhouse'), log });
  await client.command({ query: `USE ${DB}` });
});
afterAll(async () => {
  await client.close();
});

interface Snapshot {
  profile: string;
  version: number;
  at: number;
  contact: boolean;
  /** undefined: a snapshot without freshness (written before migration 0006). */
  confirmed: number | null | undefined;
  merged: string[];
}

/** Seeded, so a failure reproduces (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 43 profiles, most over 2023-01 .. 2025-06: contact data or not, confirmations old and new, unknown ones, merges. */
function generate(): Snapshot[] {
  const r = random(13);
  const start = Date.UTC(2023, 0, 1);
  const span = Date.UTC(2025, 6, 1) - start;
  const out: Snapshot[] = [];
  const merges = new Map<string, { winner: string; at: number }>([
    ['P31', { winner: 'P01', at: Date.UTC(2024, 2, 10) }],
    ['P32', { winner: 'P02', at: Date.UTC(2023, 8, 30, 23, 59) }],
    ['P33', { winner: 'P01', at: Date.UTC(2024, 5, 1) }],
  ]);
  for (let i = 0; i < 40; i++) {
    const profile = `P${String(i).padStart(2, '0')}`;
    const merge = merges.get(profile);
    const until = merge ? merge.at - start : span;
    const unknown = i % 10 === 7;
    let contact = r() < 0.8;
    let confirmed: number | null = null;
    let at = start + Math.floor(r() * until * 0.5);
    const count = 1 + Math.floor(r() * 4);
    for (let version = 1; version <= count && at < start + until; version++) {
      if (!contact && r() < 0.3) contact = true;
      if (contact && (confirmed === null || r() < 0.4)) confirmed = at - Math.floor(r() * 500) * D;
      const merged = [...merges].filter(([, m]) => m.winner === profile && m.at <= at).map(([loser]) => loser);
      out.push({ profile, version, at, contact, confirmed: unknown ? undefined : contact ? confirmed : null, merged });
      at += Math.floor(r() * 200 * D);
    }
  }
  // The winners' snapshots at the instant of each merge (they list the merged profile from then on).
  for (const [loser, m] of merges) {
    const merged = [...merges].filter(([, x]) => x.winner === m.winner && x.at <= m.at).map(([l]) => l);
    out.push({ profile: m.winner, version: 0, at: m.at, contact: true, confirmed: m.at, merged });
    assert.ok(!out.some((s) => s.profile === loser && s.at >= m.at));
  }
  // At the boundary: confirmed exactly 365 days before the end of May 2024 (stale as of it), and 1 ms later (not yet).
  const mayEnd = Date.UTC(2024, 5, 1);
  out.push({ profile: 'P40', version: 0, at: Date.UTC(2023, 6, 1), contact: true, confirmed: mayEnd - 365 * D, merged: [] });
  out.push({ profile: 'P41', version: 0, at: Date.UTC(2023, 6, 1), contact: true, confirmed: mayEnd - 365 * D + 1, merged: [] });
  // The current month counts as of now, not its end: confirmed a year minus a minute ago, not stale yet.
  const now = Date.now();
  out.push({ profile: 'P42', version: 0, at: now - 60_000, contact: true, confirmed: now - 365 * D + 60_000, merged: [] });
  // Versions in time order per profile, as the stitchers number them.
  out.sort((a, b) => (a.profile < b.profile ? -1 : a.profile > b.profile ? 1 : a.at - b.at));
  out.forEach((s, i) => {
    s.version = i > 0 && out[i - 1]!.profile === s.profile ? out[i - 1]!.version + 1 : 1;
  });
  return out;
}

function change(s: Snapshot): ProfileChanged {
  const iso = (t: number) => new Date(t).toISOString();
  const freshness = s.confirmed === undefined ? undefined : { contact_confirmed_at: s.confirmed === null ? null : iso(s.confirmed) };
  const view = { profile_id: s.profile, merged_ids: s.merged, identity: { emails: s.contact ? [`${s.profile}@example.com`] : [], phones: [] }, freshness };
  return {
    event_id: `${s.profile}:v${s.version}`,
    profile_id: s.profile,
    profile_version: s.version,
    cause: 'event',
    trigger_event_id: null,
    source_topic: null,
    changed_sections: [],
    occurred_at: s.at,
    emitted_at: s.at,
    profile_json: JSON.stringify(view),
  };
}

/** The answer, from the snapshots: months from the first snapshot's to the current one, each as of its end (or now). */
function expected(snapshots: readonly Snapshot[], now: number) {
  const first = new Date(Math.min(...snapshots.map((s) => s.at)));
  const out = [];
  const [y, m0] = [first.getUTCFullYear(), first.getUTCMonth()];
  for (let m = m0; Date.UTC(y, m, 1) <= now; m++) {
    const end = Date.UTC(y, m + 1, 1);
    const asOf = Math.min(end, now);
    const before = snapshots.filter((s) => s.at < end);
    const mergedAway = new Set(before.flatMap((s) => s.merged));
    const latest = new Map<string, Snapshot>();
    for (const s of before) if ((latest.get(s.profile)?.version ?? 0) < s.version) latest.set(s.profile, s);
    let withContact = 0;
    let stale = 0;
    let unknown = 0;
    for (const s of latest.values()) {
      if (mergedAway.has(s.profile) || !s.contact) continue;
      withContact++;
      if (s.confirmed === undefined) unknown++;
      else if (s.confirmed !== null && asOf - s.confirmed >= 365 * D) stale++;
    }
    const known = withContact - unknown;
    out.push({ month: new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10), with_contact: withContact, stale, unknown, share: known ? stale / known : null });
  }
  return out;
}

/** The analyst query (unqualified names: the database is the session's, as for `profile-stream sql`). */
async function byMonth() {
  const query = analystSql(ANALYST_QUERIES.find((q) => q.id === 'stale_contact_share_by_month')!);
  const rs = await client.query({ query, format: 'JSONEachRow' });
  const rows = await rs.json<{ month: string; with_contact: string; stale: string; unknown: string; stale_share: number | null }>();
  return rows.map((r) => ({ month: r.month, with_contact: Number(r.with_contact), stale: Number(r.stale), unknown: Number(r.unknown), share: r.stale_share }));
}

test('contact_freshness_by_month: the share of stale contact data per month, as computed from the snapshots', async () => {
  const snapshots = generate();
  const storePii = piiStorer('hash', KEY);
  const rows = snapshots.map((s) => profileRows(change(s), { storePii })!.profiles![0]!);
  // In several inserts (the materialized view sees each), one of them twice (ReplacingMergeTree and argMax absorb it).
  for (let i = 0; i < rows.length; i += 17) await insertRows(client, `${DB}.profiles`, rows.slice(i, i + 17));
  await insertRows(client, `${DB}.profiles`, rows.slice(0, 5));
  const got = await byMonth();
  const want = expected(snapshots, Date.now());
  assert.deepEqual(
    got.map(({ share, ...counts }) => counts),
    want.map(({ share, ...counts }) => counts),
  );
  got.forEach((g, i) => {
    const w = want[i]!.share;
    assert.ok(w === null ? g.share === null : Math.abs((g.share ?? Number.NaN) - w) < 1e-4, `${g.month}: share ${g.share}, expected ${w}`);
  });
  // the data spans the cases the view tells apart
  assert.ok(want.some((m) => m.stale > 0 && m.stale < m.with_contact - m.unknown) && want.some((m) => m.unknown > 0));

  const erased = snapshots.find((s) => s.contact && s.confirmed !== undefined)!.profile;
  await eraseProfile(
    client,
    DB,
    {
      event_id: 'erase-1',
      profile_id: erased,
      merged_ids: [],
      identifier_hashes: [],
      requested_by: null,
      reason: null,
      occurred_at: Date.now(),
      emitted_at: Date.now(),
    },
    log,
    tombstoner('hash', KEY),
  );
  const left = snapshots.filter((s) => s.profile !== erased);
  const afterErase = await byMonth();
  assert.deepEqual(
    afterErase.map(({ share, ...counts }) => counts),
    expected(left, Date.now()).map(({ share, ...counts }) => counts),
  );
});
