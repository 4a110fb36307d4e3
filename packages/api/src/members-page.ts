/**
 * Pages of a segment's members, cursor-paged over the shards' member sets (one SSCAN at a time, shard after shard).
 * The cursor is opaque to clients: base64url JSON of the shard, the SSCAN cursor within it and, when a page ended
 * inside one SSCAN reply, the reply's next cursor and the last member given (replies are sorted, so the rest of that
 * reply is what sorts after it).
 *
 * Guarantee (SSCAN's): a member present from the first page to the last is listed at least once; members may repeat
 * (SSCAN may return an element twice, and a reply that covers other slots than before, because the set changed
 * between two pages, is given again from its start) and members added or removed meanwhile may or may not be listed.
 */
import { apiError } from './problem.ts';

/** One SSCAN step (MembershipStore.scanMembers). */
export type ScanStep = (shard: number, cursor: string, count: number) => Promise<{ next: string; members: string[] }>;

interface Position {
  /** Shard. */
  s: number;
  /** The SSCAN cursor within it. */
  c: string;
  /** Inside a reply: its next cursor (the same again means the same slots) and the last member given. */
  n?: string;
  a?: string;
}

/** Members asked of Redis per SSCAN (a hint: small sets come whole). */
const SCAN_COUNT = 200;

export const encodeCursor = (p: Position): string => Buffer.from(JSON.stringify(p)).toString('base64url');

export function decodeCursor(cursor: string, shards: number): Position {
  let p: unknown;
  try {
    p = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    p = undefined; // not JSON: refused below like any other foreign cursor
  }
  const o = p as Partial<Position> | undefined;
  const ok =
    typeof o === 'object' &&
    o !== null &&
    Number.isInteger(o.s) &&
    o.s! >= 0 &&
    o.s! < shards &&
    typeof o.c === 'string' &&
    /^\d+$/.test(o.c) &&
    (o.n === undefined) === (o.a === undefined) &&
    (o.n === undefined || (typeof o.n === 'string' && /^\d+$/.test(o.n) && typeof o.a === 'string'));
  if (!ok) throw apiError('invalid_request', 'cursor: not a cursor of this listing (pass next_cursor as it was given)');
  return o as Position;
}

export interface MembersPage {
  members: string[];
  /** null: the listing is complete. */
  next: string | null;
}

/** Up to `limit` members from `cursor` (undefined: from the start). */
export async function membersPage(scan: ScanStep, shards: number, cursor: string | undefined, limit: number): Promise<MembersPage> {
  let at: Position | null = cursor === undefined ? { s: 0, c: '0' } : decodeCursor(cursor, shards);
  const out: string[] = [];
  while (at !== null && out.length < limit) {
    const r = await scan(at.s, at.c, SCAN_COUNT);
    let members = r.members.sort();
    if (at.a !== undefined && r.next === at.n) members = members.filter((m) => m > at!.a!);
    const room = limit - out.length;
    if (members.length > room) {
      out.push(...members.slice(0, room));
      at = { s: at.s, c: at.c, n: r.next, a: out[out.length - 1]! };
      break;
    }
    out.push(...members);
    at = r.next !== '0' ? { s: at.s, c: r.next } : at.s + 1 < shards ? { s: at.s + 1, c: '0' } : null;
  }
  return { members: out, next: at === null ? null : encodeCursor(at) };
}
