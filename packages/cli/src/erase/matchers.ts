/**
 * `erase --verify`, the pure part: what is searched for (needles), how a text is matched, and how a finding is judged
 * against the documented exceptions. Three kinds of needle: an identifier value (PII), its identifier hash (HMAC, what
 * the warehouse and the audit keep) and a profile id (pseudonymous). A value is PII wherever it is, except where the
 * README says it stays for a while (input topics and DLQs until their retention; a profile-changes record superseded by
 * an erase record until compaction); a hash or profile id is allowed only in the places that keep them by design.
 */

export type NeedleKind = 'identifier' | 'hash' | 'profile_id';

export interface Needle {
  kind: NeedleKind;
  /** What is searched for (identifier values lower-cased: the search ignores case). */
  text: string;
  /** How the report names it without repeating PII: `email`, `hash of email`, the profile id. */
  label: string;
}

export interface Needles {
  list: Needle[];
}

/** Needles of a set of identifiers (`type` → values), their hashes and profile ids; duplicates and empties dropped. */
export function needlesOf(o: { identifiers: { type: string; value: string; hash: string }[]; hashes: string[]; profileIds: string[] }): Needles {
  const seen = new Set<string>();
  const list: Needle[] = [];
  const add = (kind: NeedleKind, text: string, label: string) => {
    const t = text.toLowerCase();
    if (t.length < 3 || seen.has(t)) return; // a one- or two-character value would match everywhere
    seen.add(t);
    list.push({ kind, text: t, label });
  };
  for (const i of o.identifiers) {
    add('identifier', i.value, i.type);
    add('hash', i.hash, `hash of ${i.type}`);
  }
  for (const h of o.hashes) add('hash', h, 'identifier hash');
  for (const p of o.profileIds) add('profile_id', p, p);
  return { list };
}

/** The needles that occur in `text` (case-insensitive substring). */
export function matchText(needles: Needles, text: string | null | undefined): Needle[] {
  if (!text) return [];
  const lower = text.toLowerCase();
  return needles.list.filter((n) => lower.includes(n.text));
}

/** Every string inside a decoded value (object keys too), so a value nested in JSON text or a record is found. */
export function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (typeof value === 'number' || typeof value === 'bigint') out.push(String(value));
  else if (Buffer.isBuffer(value)) out.push(value.toString('utf8'));
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      stringsOf(v, out);
    }
  return out;
}

/** `text` with every identifier needle replaced by `<type>`: key names and report lines never repeat PII. */
export function redact(needles: Needles, text: string): string {
  let out = text;
  for (const n of needles.list) {
    if (n.kind !== 'identifier') continue;
    let at = out.toLowerCase().indexOf(n.text);
    while (at >= 0) {
      out = `${out.slice(0, at)}<${n.label}>${out.slice(at + n.text.length)}`;
      at = out.toLowerCase().indexOf(n.text, at + n.label.length + 2);
    }
  }
  return out;
}

export type Store = 'redis' | 'clickhouse' | 'kafka';

/** One place where needles were found. */
export interface Finding {
  store: Store;
  /** Redis key (redacted), `table.column`, or `topic-partition@offset`. */
  where: string;
  /** Rows or records (1 for a key or a record). */
  count: number;
  /** Labels of the needles found, sorted. */
  found: string[];
  kinds: NeedleKind[];
  /** Why this finding is allowed; absent when it is PII that should be gone. */
  exception?: string;
  /** More about it, e.g. when compaction was due for a record still present past that time. */
  note?: string;
}

export interface FindingContext {
  store: Store;
  where: string;
  count: number;
  needles: Needle[];
  /** Redis: the key name. ClickHouse: the table. Kafka: the topic's role. */
  place: string;
  /** Kafka only: when a record that awaits compaction or retention is due to go (ms), and whether that is past. */
  dueAt?: number;
  now?: number;
}

/** Kafka topics as verify treats them. */
export type TopicRole =
  | 'input' // raw events until retention
  | 'dlq' // failed records until the DLQ's retention
  | 'membership' // segment-membership-changed: profile ids by design, traits a definition includes until retention
  | 'profile-changes-superseded' // an erased profile's earlier record, until compaction
  | 'profile-changes-erase' // the erase record itself: the profile id, no profile
  | 'pseudonymous' // profile-erased, profile-merged, segment-membership-changed: ids and hashes by design
  | 'profile-changes'; // a record of a profile that was not erased

/** Redis keys that keep hashes or profile ids by design: the erasure audit, tombstones, and the merge log (pids). */
export function pseudonymousRedisKey(prefix: string, key: string): boolean {
  return key.startsWith(`${prefix}audit:`) || key.endsWith(':erased') || key === `${prefix}{${prefix}ix}:mergelog`;
}

/** ClickHouse tables that keep hashes or profile ids by design: the erasure tombstones. */
export const PSEUDONYMOUS_TABLES = new Set(['erasures']);

const iso = (ms: number) => new Date(ms).toISOString();

/** A finding judged: the documented exception it falls under, or none (PII that remains). */
export function judge(c: FindingContext, o: { redisPrefix: string }): Finding {
  const kinds = [...new Set(c.needles.map((n) => n.kind))].sort();
  const found = [...new Set(c.needles.map((n) => n.label))].sort();
  const base: Finding = { store: c.store, where: c.where, count: c.count, found, kinds };
  const pseudonymousOnly = !kinds.includes('identifier');
  const exception = exceptionOf(c, pseudonymousOnly, o.redisPrefix);
  const overdue = c.place === 'profile-changes-superseded' && c.dueAt !== undefined && !exception;
  return { ...base, ...(exception ? { exception } : {}), ...(overdue ? { note: `compaction was due by ${iso(c.dueAt!)}` } : {}) };
}

function exceptionOf(c: FindingContext, pseudonymousOnly: boolean, redisPrefix: string): string | undefined {
  if (c.store === 'redis') return pseudonymousOnly && pseudonymousRedisKey(redisPrefix, c.place) ? 'kept by design (no PII)' : undefined;
  if (c.store === 'clickhouse') return pseudonymousOnly && PSEUDONYMOUS_TABLES.has(c.place) ? 'erasure tombstone (hashes)' : undefined;
  const role = c.place as TopicRole;
  const overdue = c.dueAt !== undefined && c.now !== undefined && c.now > c.dueAt;
  switch (role) {
    case 'input':
    case 'dlq':
    case 'membership':
      return c.dueAt === undefined ? 'kept until the topic’s retention' : `kept until the topic’s retention (by ${iso(c.dueAt)})`;
    case 'profile-changes-superseded':
      if (c.dueAt === undefined) return undefined;
      return overdue ? undefined : `removed by compaction by ${iso(c.dueAt)}`;
    case 'profile-changes-erase':
    case 'pseudonymous':
      return pseudonymousOnly ? 'kept by design (no PII)' : undefined;
    default:
      return undefined;
  }
}
