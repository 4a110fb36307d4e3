/**
 * Erasure (profile-erased): every row of the profile and of the profiles merged into it is deleted with
 * lightweight DELETEs — raw events by any of its identifiers (from the stored snapshots, and from the event's
 * identifier hashes: stored e-mail/phone hashes match directly, other values by hashing the distinct stored
 * ones), snapshots, membership changes and merges by
 * profile id. Daily aggregates keep no identifiers and stay. The erasure is recorded in `erasures` with the hashes
 * of the profile's identifiers and its time (tombstones: the sink does not store events that carry one of them and
 * occurred before the erasure, late arrivals of the erased customer; a later event starts a new profile and is stored).
 */
import type { ClickHouseClient } from '@profile-stream/clickhouse';
import type { Logger } from '@profile-stream/consumer-kit';
import type { ProfileErased } from '@profile-stream/contracts';
import type { IdentifierType } from './pii.ts';
import { sqlList } from './sql.ts';

/** The identifier hash of a value as stored in the warehouse (e-mail/phone may be stored hashed already). */
export type TombstoneOf = (type: IdentifierType, stored: string) => string;

const RAW = ['clickstream_events', 'purchases', 'support_tickets', 'loyalty_events'] as const;

/**
 * Distinct stored values of an identifier column whose hash is wanted (a scan of the column's distinct values:
 * erasures are rare). Nothing to scan when there is no hash or the column stores the hash itself.
 */
async function storedMatching(client: ClickHouseClient, db: string, column: IdentifierType, wanted: Set<string>, tombstoneOf: TombstoneOf): Promise<string[]> {
  const probe = 'probe';
  if (wanted.size === 0 || tombstoneOf(column, probe) === probe) return [];
  const rs = await client.query({
    query: RAW.map((t) => `SELECT DISTINCT ${column} AS v FROM ${db}.${t} WHERE ${column} IS NOT NULL`).join(' UNION DISTINCT '),
    format: 'JSONCompactEachRow',
  });
  return (await rs.json<[string]>()).map(([v]) => v).filter((v) => wanted.has(tombstoneOf(column, v)));
}

/** Erases the profile; returns its identifier hashes (the tombstones). */
export async function eraseProfile(client: ClickHouseClient, db: string, e: ProfileErased, log: Logger, tombstoneOf: TombstoneOf): Promise<string[]> {
  const ids = [e.profile_id, ...e.merged_ids];
  const rs = await client.query({
    query: `SELECT arrayDistinct(flatten(groupArray(user_ids))) AS u, arrayDistinct(flatten(groupArray(anonymous_ids))) AS a,
                   arrayDistinct(flatten(groupArray(emails))) AS e, arrayDistinct(flatten(groupArray(phones))) AS p
            FROM ${db}.profiles WHERE profile_id IN (${sqlList(ids)})`,
    format: 'JSONEachRow',
  });
  const [known] = await rs.json<{ u: string[]; a: string[]; e: string[]; p: string[] }>();
  // Identifiers named only by hash (no snapshot yet, or one that lacks them): stored values whose hash matches.
  const byHash = (column: IdentifierType) => storedMatching(client, db, column, new Set(e.identifier_hashes), tombstoneOf);
  const users = [...(known?.u ?? []), ...(await byHash('user_id'))];
  const anons = [...(known?.a ?? []), ...(await byHash('anonymous_id'))];
  const emails = [...(known?.e ?? []), ...e.identifier_hashes, ...(await byHash('email'))];
  const phones = [...(known?.p ?? []), ...e.identifier_hashes, ...(await byHash('phone'))];
  const keys = [...users, ...anons, ...emails, ...phones];
  const byIdentifier = [
    users.length ? `user_id IN (${sqlList(users)})` : '',
    anons.length ? `anonymous_id IN (${sqlList(anons)})` : '',
    emails.length ? `email IN (${sqlList(emails)})` : '',
    phones.length ? `phone IN (${sqlList(phones)})` : '',
    keys.length ? `customer_key IN (${sqlList(keys)})` : '',
  ]
    .filter(Boolean)
    .join(' OR ');
  const statements = [
    ...(byIdentifier ? RAW.map((t) => `DELETE FROM ${db}.${t} WHERE ${byIdentifier}`) : []),
    ...(keys.length ? [`DELETE FROM ${db}.purchase_items WHERE customer_key IN (${sqlList(keys)})`] : []),
    `DELETE FROM ${db}.profiles WHERE profile_id IN (${sqlList(ids)})`,
    `DELETE FROM ${db}.profile_contact_months WHERE profile_id IN (${sqlList(ids)})`,
    `DELETE FROM ${db}.segment_membership_changes WHERE profile_id IN (${sqlList(ids)})`,
    `DELETE FROM ${db}.identity_merges WHERE profile_id IN (${sqlList(ids)}) OR merged_profile_id IN (${sqlList(ids)})`,
  ];
  for (const query of statements) await client.command({ query, clickhouse_settings: { max_query_size: '104857600' } });
  const tombstones = [
    ...new Set([
      ...users.map((u) => tombstoneOf('user_id', u)),
      ...anons.map((a) => tombstoneOf('anonymous_id', a)),
      ...(known?.e ?? []).map((v) => tombstoneOf('email', v)),
      ...(known?.p ?? []).map((v) => tombstoneOf('phone', v)),
      ...e.identifier_hashes,
    ]),
  ];
  await client.insert({
    table: `${db}.erasures`,
    format: 'JSONEachRow',
    values: [{ event_id: e.event_id, profile_id: e.profile_id, merged_ids: e.merged_ids, occurred_at: e.occurred_at, identifier_hashes: tombstones }],
  });
  if (!known || keys.length === 0)
    log.warn({ profile: e.profile_id }, 'erasure found no stored snapshot or identifier hashes: raw events of this profile could not be matched');
  log.info({ profile: e.profile_id, statements: statements.length, tombstones: tombstones.length }, 'profile erased from the warehouse');
  return tombstones;
}
