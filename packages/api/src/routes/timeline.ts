/**
 * `GET /v1/profiles/:ref/timeline`: the profile's recent raw events from the warehouse (clickstream_events, purchases,
 * support_tickets), newest first, cursor-paged. Those rows carry no profile id: they are matched on the live profile's
 * identifiers — which include the identifiers of the profiles merged into it — as the warehouse stores them (user and
 * anonymous ids as they are, e-mail and phone through its PII storer: hashed by default), in any identifier column, the
 * way the warehouse's erase finds them.
 *
 * Paging: the cursor is opaque (base64url JSON of the last item's occurred_at in ms and event_id). A page holds the
 * items strictly after it in (occurred_at DESC, event_id DESC) order, so pages neither overlap nor leave gaps, and
 * events stored meanwhile that are newer than the cursor do not move later pages. Each table answers its own first
 * `limit + 1` rows after the cursor (the three queries run at once); the page is the merge of the three.
 */
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import type { WarehouseConfig } from '@profile-stream/warehouse/config';
import { type PiiMode, piiStorer } from '@profile-stream/warehouse/pii';
import { sqlList, sqlString } from '@profile-stream/warehouse/sql';
import { apiError } from '../problem.ts';
import { TIMELINE_TYPES, type TimelineType, timelineSchema } from '../schemas.ts';
import { findProfile, type ProfileRoutesDeps } from './profiles.ts';

/** The warehouse as the timeline reads it. */
export interface TimelineSource {
  client: ClickHouseClient;
  database: string;
  /** How the warehouse stores e-mail and phone (WAREHOUSE_PII, PII_HASH_KEY). */
  pii: PiiMode;
  piiKey: string;
  /** Where it is, for messages (no credentials). */
  location: string;
}

/**
 * The warehouse as `profile-stream sql` finds it (a ClickHouse server at CLICKHOUSE_URL, else the running warehouse's
 * read-only SQL on WAREHOUSE_OPS_PORT), but never the chDB directory itself: the warehouse process owns it. A warehouse
 * that is not running (yet) makes the timeline answer 503 until it is.
 */
export function openTimelineSource(w: Pick<WarehouseConfig, 'database' | 'opsPort' | 'pii' | 'piiKey'> & { url: string | undefined }): TimelineSource {
  const url = w.url ?? `http://127.0.0.1:${w.opsPort}`;
  const u = new URL(url);
  // The client's own error log is off: a failed query is the route's answer (503 naming the setting) and its log line.
  const client = createClient({ url, ...(w.url ? { database: w.database } : {}), request_timeout: 10_000, log: { level: ClickHouseLogLevel.OFF } });
  return { client, database: w.database, pii: w.pii, piiKey: w.piiKey, location: `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}` };
}

export interface TimelineDeps extends ProfileRoutesDeps {
  warehouse: TimelineSource | undefined;
}

export interface TimelineItem {
  event_id: string;
  occurred_at: string;
  type: TimelineType;
  source: 'clickstream' | 'purchases' | 'support-tickets';
  details: Record<string, unknown>;
}

interface Position {
  /** occurred_at, epoch ms. */
  t: number;
  id: string;
}

const encodeCursor = (p: Position): string => Buffer.from(JSON.stringify(p)).toString('base64url');

function decodeCursor(cursor: string): Position {
  let p: unknown;
  try {
    p = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    p = undefined; // not JSON: refused below like any other foreign cursor
  }
  const o = p as Partial<Position> | undefined;
  if (typeof o === 'object' && o !== null && Number.isSafeInteger(o.t) && o.t! >= 0 && typeof o.id === 'string' && o.id.length > 0) return o as Position;
  throw apiError('invalid_request', 'cursor: not a cursor of this timeline (pass next_cursor as it was given)');
}

/** One raw table: its columns beyond event_id and occurred_at (numeric ones come back as numbers), and its item type. */
interface TableSpec {
  table: string;
  source: TimelineItem['source'];
  columns: string[];
  numeric: string[];
  /** The item type of a row: a clickstream row's event_type, else fixed. */
  type: TimelineType | 'event_type';
}

const TABLE_SPECS: readonly TableSpec[] = [
  {
    table: 'clickstream_events',
    source: 'clickstream',
    type: 'event_type',
    columns: [
      'event_type',
      'page_url',
      'page_title',
      'page_referrer',
      'product_sku',
      'product_category',
      'product_price_minor',
      'product_currency',
      'search_query',
      'device_type',
      'device_os',
      'device_browser',
      'utm_source',
      'utm_medium',
      'utm_campaign',
      'country',
      'consent_purpose',
      'consent_granted',
    ],
    numeric: ['product_price_minor'],
  },
  {
    table: 'purchases',
    source: 'purchases',
    type: 'purchase',
    columns: ['order_id', 'status', 'channel', 'currency', 'total_minor', 'items_count'],
    numeric: ['total_minor', 'items_count'],
  },
  {
    table: 'support_tickets',
    source: 'support-tickets',
    type: 'support_ticket',
    columns: ['ticket_id', 'status', 'channel', 'priority', 'category', 'subject', 'satisfaction'],
    numeric: ['satisfaction'],
  },
];

const CLICK_TYPES = new Set<string>(TIMELINE_TYPES.filter((t) => t !== 'purchase' && t !== 'support_ticket'));

/** The WHERE clause matching a profile's identifiers as stored; undefined when it has none the warehouse keeps. */
function identifierMatch(identity: Identity, store: (type: 'email' | 'phone', value: string) => string): string | undefined {
  const clauses = [
    identity.user_ids.length ? `user_id IN (${sqlList(identity.user_ids)})` : '',
    identity.anonymous_ids.length ? `anonymous_id IN (${sqlList(identity.anonymous_ids)})` : '',
    identity.emails.length ? `email IN (${sqlList(identity.emails.map((e) => store('email', e)))})` : '',
    identity.phones.length ? `phone IN (${sqlList(identity.phones.map((p) => store('phone', p)))})` : '',
  ].filter(Boolean);
  return clauses.length ? clauses.join(' OR ') : undefined;
}

interface Identity {
  user_ids: string[];
  emails: string[];
  phones: string[];
  anonymous_ids: string[];
}

function tableQuery(db: string, spec: TableSpec, match: string, after: Position | undefined, types: Set<string> | undefined, n: number): string {
  const where = [`(${match})`];
  if (after) {
    const t = `fromUnixTimestamp64Milli(toInt64(${after.t}), 'UTC')`;
    // The plain bound lets ClickHouse skip partitions and granules; the tuple is the exact position.
    where.push(`occurred_at <= ${t}`, `(occurred_at, event_id) < (${t}, ${sqlString(after.id)})`);
  }
  if (types && spec.type === 'event_type') where.push(`event_type IN (${sqlList(types)})`);
  // LIMIT 1 BY: a row the ReplacingMergeTree has not merged away yet is given once.
  return `SELECT event_id, toUnixTimestamp64Milli(occurred_at) AS t, ${spec.columns.join(', ')} FROM ${db}.${spec.table}
          WHERE ${where.join(' AND ')} ORDER BY occurred_at DESC, event_id DESC LIMIT 1 BY event_id LIMIT ${n}`;
}

function toItem(spec: TableSpec, row: Record<string, unknown>): TimelineItem & { t: number } {
  const details: Record<string, unknown> = {};
  for (const c of spec.columns) {
    const v = row[c];
    if (v === null || v === undefined || c === 'event_type') continue;
    details[c] = spec.numeric.includes(c) ? Number(v) : v;
  }
  const t = Number(row.t);
  const type = (spec.type === 'event_type' ? row.event_type : spec.type) as TimelineType;
  return { event_id: String(row.event_id), occurred_at: new Date(t).toISOString(), type, source: spec.source, details, t };
}

/** Newest first; ties by event id descending, compared as ClickHouse compares strings (bytes). */
function newestFirst(a: { t: number; event_id: string }, b: { t: number; event_id: string }): number {
  return b.t - a.t || Buffer.compare(Buffer.from(b.event_id), Buffer.from(a.event_id));
}

/** Connection trouble or a warehouse that has no such database/table yet: worth a 503 naming where it looked. */
function unavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  const code = String(e.code ?? e.cause?.code ?? '');
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', '81', '60'].includes(code) ||
    /ECONNREFUSED|socket hang up|Timeout error|UNKNOWN_DATABASE|UNKNOWN_TABLE/.test(String(e.message ?? ''))
  );
}

export async function timelinePage(
  w: TimelineSource,
  identity: Identity,
  o: { cursor: string | undefined; limit: number; types: readonly string[] | undefined },
): Promise<{ events: TimelineItem[]; next: string | null }> {
  const after = o.cursor === undefined ? undefined : decodeCursor(o.cursor);
  const match = identifierMatch(identity, piiStorer(w.pii, w.piiKey));
  if (match === undefined) return { events: [], next: null };
  const wanted = o.types === undefined ? undefined : new Set(o.types);
  const clickTypes = wanted && new Set([...wanted].filter((t) => CLICK_TYPES.has(t)));
  const specs = TABLE_SPECS.filter((s) => !wanted || (s.type === 'event_type' ? clickTypes!.size > 0 : wanted.has(s.type)));
  const rows = await Promise.all(
    specs.map(async (spec) => {
      const rs = await w.client.query({ query: tableQuery(w.database, spec, match, after, clickTypes, o.limit + 1), format: 'JSONEachRow' });
      return (await rs.json<Record<string, unknown>>()).map((r) => toItem(spec, r));
    }),
  ).catch((err: unknown) => {
    if (!unavailable(err)) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw apiError(
      'dependency_unavailable',
      `the timeline reads the warehouse, which did not answer at ${w.location} (CLICKHOUSE_URL, or the warehouse's WAREHOUSE_OPS_PORT): ${why}`,
    );
  });
  const merged = rows.flat().sort(newestFirst);
  const page = merged.slice(0, o.limit);
  const last = page.at(-1);
  const next = merged.length > o.limit && last ? encodeCursor({ t: last.t, id: last.event_id }) : null;
  return { events: page.map(({ t: _t, ...item }) => item), next };
}

export function registerTimelineRoutes(app: FastifyInstance, d: TimelineDeps): void {
  app.get<{ Params: { ref: string }; Querystring: { cursor?: string; limit: number; type?: string[] } }>(
    '/v1/profiles/:ref/timeline',
    { schema: timelineSchema, config: { scope: 'read' } },
    async (req) => {
      if (!d.warehouse)
        throw apiError('dependency_unavailable', 'the timeline reads the warehouse: set CLICKHOUSE_URL, or run the warehouse (its WAREHOUSE_OPS_PORT)');
      const found = await findProfile(d, req.params.ref);
      const profile = found.profile as unknown as { profile_id: string; identity: Identity };
      const page = await timelinePage(d.warehouse, profile.identity, { cursor: req.query.cursor, limit: req.query.limit, types: req.query.type });
      return {
        requested: found.requested,
        profile_id: profile.profile_id,
        ...(found.merged_into ? { merged_into: found.merged_into } : {}),
        events: page.events,
        next_cursor: page.next,
      };
    },
  );
}
