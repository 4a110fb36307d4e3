/**
 * `profile-stream erase --verify <ref>`: is an erased customer gone? The ref (an identifier or a profile id) gives the
 * needles: the identifier value, its identifier hash (the warehouse's HMAC), what the erasure's audit record names (the
 * erased pids and identifier hashes; no values, the audit keeps no PII) and, when a live profile still owns the ref, its
 * identifiers and ids. Then every place is searched — Redis under the prefix, every table of the warehouse, the profile
 * topics and the DLQs (input topics with `--inputs`) — and each place is reported with what it holds. Exit code 0 when
 * nothing remains outside the documented exceptions, VERIFY_PII_REMAINS when something does, VERIFY_INCOMPLETE when a
 * place could not be searched.
 */
import { ContractsRegistry } from '@profile-stream/contracts';
import { createKafka, dlqTopicOf } from '@profile-stream/consumer-kit';
import { formatRetention, topicNames, topicRetention, type TopicRetention } from '@profile-stream/infra';
import { keySpace, parseRef, profileView, ProfileStore, resolveRef, type ErasureRecord, type IdentifierType } from '@profile-stream/profile';
import { identifierHash, loadWarehouseConfig, openAnalystClient } from '@profile-stream/warehouse';
import { Redis } from 'ioredis';
import type { CliContext } from '../context.ts';
import { searchClickHouse } from './clickhouse-search.ts';
import { needlesOf, redact, type Finding, type Needles } from './matchers.ts';
import { searchRedis } from './redis-search.ts';
import { searchTopic, type TopicToSearch } from './topic-search.ts';

export const VERIFY_PII_REMAINS = 5;
export const VERIFY_INCOMPLETE = 6;

export interface ErasureSeen {
  audit_id: string;
  profile_id: string;
  merged_ids: string[];
  at: string;
}

export interface PlaceReport {
  store: 'redis' | 'clickhouse' | 'kafka';
  place: string;
  searched: boolean;
  /** What was read (`1,234 keys`, `12 tables, 80 columns`, `5,000 records`), or why it was not searched. */
  detail: string;
  retention?: string;
  findings: Finding[];
}

export interface VerifyReport {
  ref: string;
  erasures: ErasureSeen[];
  /** A live profile that owns the ref now (not erased, or created again by a later event). */
  liveProfile: string | undefined;
  searchedFor: { identifiers: number; hashes: number; profileIds: string[] };
  places: PlaceReport[];
  remaining: number;
  exitCode: number;
}

const IDENTITY_FIELDS: [string, IdentifierType][] = [
  ['user_ids', 'user_id'],
  ['emails', 'email'],
  ['phones', 'phone'],
  ['anonymous_ids', 'anonymous_id'],
];

/** What to search for: the ref, the live profile that owns it (if any), and the erasure the audit names. */
async function resolveNeedles(
  ctx: CliContext,
  redis: Redis,
  ref: string,
  piiKey: string,
): Promise<{ needles: Needles; erasures: ErasureSeen[]; live?: string }> {
  const options = { defaultRegion: ctx.defaultRegion, blocklist: new Set(ctx.junkIds) };
  const parsed = parseRef(ref, options);
  const keys = keySpace(ctx.redisPrefix);
  const hash = (type: IdentifierType, value: string) => identifierHash(piiKey, type, value);
  const identifiers: { type: string; value: string; hash: string }[] = [];
  const pids = new Set<string>();
  const hashes = new Set<string>();
  if (parsed.kind === 'profile_id') pids.add(parsed.value);
  else identifiers.push({ type: parsed.kind, value: parsed.value, hash: hash(parsed.kind, parsed.value) });

  const { profile } = await resolveRef(new ProfileStore({ redis, prefix: ctx.redisPrefix, windowMs: 1 }), ref, options);
  if (profile) {
    pids.add(profile.profileId);
    for (const m of profile.mergedIds) pids.add(m);
    const view = profileView(profile.doc as never, { profile_id: profile.profileId, merged_ids: profile.mergedIds }) as { identity: Record<string, string[]> };
    const identity = view.identity;
    for (const [field, type] of IDENTITY_FIELDS) for (const value of identity[field] ?? []) identifiers.push({ type, value, hash: hash(type, value) });
  }

  // The audit ids: by the identifier's hash, or by the tombstone of the profile id.
  const auditIds = new Set<string>();
  for (const i of identifiers) {
    const id = await redis.hget(keys.erasedIds, i.hash);
    if (id) auditIds.add(id);
  }
  for (const pid of [...pids]) {
    const t = await redis.get(keys.profile(pid).erased);
    if (t) auditIds.add((JSON.parse(t) as { audit_id: string }).audit_id);
  }
  const erasures: ErasureSeen[] = [];
  for (const id of auditIds) {
    const raw = await redis.hget(keys.audit(id), 'record');
    if (!raw) continue;
    const r = JSON.parse(raw) as ErasureRecord;
    erasures.push({ audit_id: r.audit_id, profile_id: r.profile_id, merged_ids: r.merged_ids, at: new Date(r.at).toISOString() });
    for (const p of [r.profile_id, ...r.merged_ids]) pids.add(p);
    for (const h of r.identifier_hashes) hashes.add(h);
  }
  const needles = needlesOf({ identifiers, hashes: [...hashes], profileIds: [...pids] });
  return { needles, erasures, ...(profile ? { live: profile.profileId } : {}) };
}

/** The topics to read, each with its role and retention (topics that do not exist are left out). */
function topicsToSearch(ctx: CliContext, retention: TopicRetention[]): { search: TopicToSearch[]; inputs: TopicToSearch[] } {
  const byName = new Map(retention.map((r) => [r.topic, r]));
  const search: TopicToSearch[] = [];
  const inputs: TopicToSearch[] = [];
  const add = (list: TopicToSearch[], topic: string, kind: TopicToSearch['kind']) => {
    const r = byName.get(topic);
    if (r) list.push({ topic, kind, retentionMs: r.retentionMs, maxCompactionLagMs: r.maxCompactionLagMs });
  };
  for (const t of Object.values(ctx.topics)) {
    if (t.input) add(inputs, t.topic, 'input');
    else add(search, t.topic, t.id === 'profile-changes' ? 'profile-changes' : t.id === 'segment-membership-changed' ? 'membership' : 'pseudonymous');
  }
  for (const t of Object.values(ctx.topics)) add(search, t.dlq ?? dlqTopicOf(t.topic), 'dlq');
  return { search, inputs };
}

export async function verifyErasure(ctx: CliContext, ref: string, o: { inputs?: boolean; now?: number } = {}): Promise<VerifyReport> {
  const now = o.now ?? Date.now();
  const wh = loadWarehouseConfig(ctx.env);
  const redis = new Redis(ctx.conn.redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  const places: PlaceReport[] = [];
  try {
    await redis.connect();
    const { needles, erasures, live } = await resolveNeedles(ctx, redis, ref, wh.piiKey);

    const r = await searchRedis(redis, { prefix: ctx.redisPrefix, needles });
    const partly = r.partlyRead ? `, ${r.partlyRead} read in part` : '';
    places.push({ store: 'redis', place: `keys ${ctx.redisPrefix}*`, searched: true, detail: `${r.keys} keys${partly}`, findings: r.findings });

    try {
      const a = await openAnalystClient({ url: wh.conn.clickhouse.url, database: wh.database, opsPort: wh.opsPort, dataDir: wh.dataDir });
      try {
        const c = await searchClickHouse(a.client, { database: wh.database, needles, redisPrefix: ctx.redisPrefix });
        places.push({
          store: 'clickhouse',
          place: `${wh.database} (${a.location})`,
          searched: true,
          detail: `${c.tables} tables, ${c.columns} text columns`,
          findings: c.findings,
        });
      } finally {
        await a.close();
      }
    } catch (err) {
      places.push({ store: 'clickhouse', place: wh.database, searched: false, detail: `not searched: ${(err as Error).message}`, findings: [] });
    }

    const kafka = createKafka({ brokers: ctx.conn.kafka.brokers, clientId: 'profile-stream-verify', logger: ctx.log.child({}, { level: 'silent' }) });
    const registry = new ContractsRegistry({ host: ctx.conn.registry.url, topics: ctx.topics });
    const { search, inputs } = topicsToSearch(ctx, await topicRetention(kafka, topicNames(ctx.topics)));
    // read concurrently: each read waits mostly on its throwaway group's join
    const read = await Promise.all(
      [...search, ...(o.inputs ? inputs : [])].map(async (t) => ({
        t,
        s: await searchTopic(kafka, registry, t, { needles, now, redisPrefix: ctx.redisPrefix }),
      })),
    );
    for (const { t, s } of read)
      places.push({
        store: 'kafka',
        place: t.topic,
        searched: true,
        detail: `${s.records} records`,
        retention: formatRetention(t.retentionMs),
        findings: s.findings,
      });
    if (!o.inputs)
      for (const t of inputs)
        places.push({
          store: 'kafka',
          place: t.topic,
          searched: false,
          detail: 'not searched (input topic; --inputs reads it)',
          retention: formatRetention(t.retentionMs),
          findings: [],
        });

    for (const p of places) for (const f of p.findings) f.where = redact(needles, f.where);
    const remaining = places.reduce((n, p) => n + p.findings.filter((f) => !f.exception).length, 0);
    const incomplete = places.some((p) => !p.searched && p.store !== 'kafka');
    return {
      ref: redact(needles, ref),
      erasures,
      liveProfile: live,
      searchedFor: {
        identifiers: needles.list.filter((n) => n.kind === 'identifier').length,
        hashes: needles.list.filter((n) => n.kind === 'hash').length,
        profileIds: needles.list.filter((n) => n.kind === 'profile_id').map((n) => n.text),
      },
      places,
      remaining,
      exitCode: remaining > 0 ? VERIFY_PII_REMAINS : incomplete ? VERIFY_INCOMPLETE : 0,
    };
  } finally {
    redis.disconnect();
  }
}

/** The report as text: one block per place, one line per finding. */
export function formatReport(r: VerifyReport): string {
  const lines: string[] = [];
  lines.push(`verify ${r.ref}`);
  for (const e of r.erasures) lines.push(`  erased ${e.at}: ${[e.profile_id, ...e.merged_ids].join(', ')} (audit ${e.audit_id})`);
  if (r.erasures.length === 0) lines.push('  no erasure recorded for this ref');
  if (r.liveProfile) lines.push(`  a live profile owns this ref: ${r.liveProfile}`);
  lines.push(`  searched for ${r.searchedFor.identifiers} identifier values, ${r.searchedFor.hashes} hashes, ${r.searchedFor.profileIds.length} profile ids`);
  for (const p of r.places) {
    const retention = p.retention ? ` [retention ${p.retention}]` : '';
    const verdict = !p.searched ? '' : p.findings.length === 0 ? ': none found' : `: ${p.findings.length} found`;
    lines.push(`${p.store} ${p.place}${retention} — ${p.detail}${verdict}`);
    for (const f of p.findings) {
      const count = f.store === 'clickhouse' ? ` ${f.count} rows` : '';
      const status = f.exception ? `ok: ${f.exception}` : `REMAINS${f.note ? ` (${f.note})` : ''}`;
      lines.push(`  ${f.where}${count} [${f.found.join(', ')}] ${status}`);
    }
  }
  lines.push(r.remaining ? `${r.remaining} places still hold the customer's data` : 'nothing remains outside the documented exceptions');
  return `${lines.join('\n')}\n`;
}

/** The `--verify` action of `erase`: the report (text or JSON) and its exit code. */
export async function runVerify(ctx: CliContext, ref: string, opts: { json?: boolean; inputs?: boolean }): Promise<void> {
  const r = await verifyErasure(ctx, ref, { inputs: opts.inputs ?? false });
  process.stdout.write(opts.json ? `${JSON.stringify(r, null, 2)}\n` : formatReport(r));
  process.exitCode = r.exitCode;
}
