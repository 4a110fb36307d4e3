/**
 * The store's invariants, read off Redis (tests, the identity soak). `always` hold at every moment, between any two
 * steps of any number of concurrent resolvers, merges and folds; `settled` hold once every started operation has
 * finished (nothing in flight, the journal settled).
 *   always:  every identifier points to exactly one live (unsealed) root;
 *            a root's identifier sets equal the identifiers that point to it;
 *            no root owns more identifiers of a type than its limit.
 *   settled: the journal is empty; nothing is pending; every profile with data is a live root that an identifier
 *            points to (no orphan); a merged profile keeps only its alias, whose chain ends at a live root that lists
 *            it as merged.
 */
import type { Redis } from 'ioredis';
import { DEFAULT_LIMITS, type Limits } from '../store/identity.ts';
import { IDENTIFIER_PRIORITY, type IdentifierType, type KeySpace } from '../store/keys.ts';
import { globEscape as lit, scanKeys } from '../store/scan.ts';

export interface IdentitySnapshot {
  /** `<type>:<value>` → owner. */
  owners: Map<string, string>;
  /** root → `<type>:<value>` set. */
  owned: Map<string, Set<string>>;
  /** root → its recorded count per type. */
  counts: Map<string, Record<string, number>>;
  journal: number;
  into: number;
  /** Profiles with data (doc, seen or meta), their alias, pending and merged sets. */
  profiles: Map<string, { data: boolean; alias: string | undefined; pending: string[]; merged: string[] }>;
}

/** Runs `fn`'s commands for every item in pipelines of 1,000. */
async function pipelined<T, R>(
  redis: Redis,
  items: readonly T[],
  fn: (p: ReturnType<Redis['pipeline']>, x: T) => void,
  read: (replies: unknown[], x: T) => R,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += 1000) {
    const batch = items.slice(i, i + 1000);
    const p = redis.pipeline();
    for (const x of batch) fn(p, x);
    const replies = ((await p.exec()) ?? []).map(([err, v]) => {
      if (err) throw err;
      return v;
    });
    const per = replies.length / batch.length;
    batch.forEach((x, j) => {
      out.push(read(replies.slice(j * per, (j + 1) * per), x));
    });
  }
  return out;
}

export async function snapshot(redis: Redis, keys: KeySpace): Promise<IdentitySnapshot> {
  const owners = new Map<string, string>();
  const idKeys = await scanKeys(redis, `${lit(keys.index)}id:*`);
  const vals = await pipelined(
    redis,
    idKeys,
    (p, k) => p.get(k),
    ([v]) => v as string,
  );
  idKeys.forEach((k, i) => {
    owners.set(k.slice(keys.index.length + 3), vals[i]!);
  });
  const owned = new Map<string, Set<string>>();
  const counts = new Map<string, Record<string, number>>();
  const setKeys = await scanKeys(redis, `${lit(keys.index)}ids:*`);
  const hashes = await pipelined(
    redis,
    setKeys,
    (p, k) => p.hgetall(k),
    ([v]) => v as Record<string, string>,
  );
  setKeys.forEach((k, i) => {
    const pid = k.slice(keys.index.length + 4);
    const fields = Object.keys(hashes[i]!);
    owned.set(pid, new Set(fields.filter((f) => !f.startsWith('#'))));
    counts.set(pid, Object.fromEntries(fields.filter((f) => f.startsWith('#')).map((f) => [f.slice(1), Number(hashes[i]![f])])));
  });
  const base = keys.profile('X').doc.indexOf('{X}');
  const pids = [...new Set((await scanKeys(redis, `${lit(keys.prefix)}p:*`)).map((k) => k.slice(base + 1, k.indexOf('}', base))))];
  const states = await pipelined(
    redis,
    pids,
    (p, pid) => {
      const k = keys.profile(pid);
      p.exists(k.doc, k.seen, k.meta).get(k.alias).smembers(k.pending).smembers(k.merged);
    },
    ([data, alias, pending, merged]) => ({
      data: (data as number) > 0,
      alias: (alias as string | null) ?? undefined,
      pending: pending as string[],
      merged: merged as string[],
    }),
  );
  const profiles: IdentitySnapshot['profiles'] = new Map(pids.map((pid, i) => [pid, states[i]!]));
  return {
    owners,
    owned,
    counts,
    profiles,
    journal: await redis.hlen(keys.journal),
    into: (await scanKeys(redis, `${lit(keys.index)}into:*`)).length,
  };
}

/** Violations of the invariants (empty when all hold). */
export function violations(s: IdentitySnapshot, o: { settled: boolean; limits?: Limits }): string[] {
  const limits = o.limits ?? DEFAULT_LIMITS;
  const out: string[] = [];
  const pointing = new Map<string, Set<string>>();
  for (const [id, pid] of s.owners) {
    if (s.profiles.get(pid)?.alias !== undefined) out.push(`${id} points to ${pid}, which is sealed (merged into ${s.profiles.get(pid)!.alias})`);
    pointing.set(pid, (pointing.get(pid) ?? new Set()).add(id));
  }
  for (const pid of new Set([...pointing.keys(), ...s.owned.keys()])) {
    const a = [...(pointing.get(pid) ?? [])].sort();
    const b = [...(s.owned.get(pid) ?? [])].sort();
    if (a.join('|') !== b.join('|')) out.push(`root ${pid}: identifiers pointing to it [${a.join(', ')}] differ from its identifier sets [${b.join(', ')}]`);
    for (const t of IDENTIFIER_PRIORITY) {
      const n = b.filter((x) => x.startsWith(`${t}:`)).length;
      if (n > limits[t as IdentifierType]) out.push(`root ${pid} owns ${n} ${t} (limit ${limits[t as IdentifierType]})`);
      if (s.owned.has(pid) && (s.counts.get(pid)?.[t] ?? 0) !== n) out.push(`root ${pid} counts ${s.counts.get(pid)?.[t] ?? 0} ${t} but owns ${n}`);
    }
  }
  if (!o.settled) return out;
  if (s.journal || s.into) out.push(`journal not settled: ${s.journal} entries, ${s.into} into-sets`);
  for (const [pid, p] of s.profiles) {
    if (p.pending.length) out.push(`${pid} still waits for ${p.pending.join(', ')}`);
    if (p.alias === undefined) {
      if (p.data && !pointing.has(pid)) out.push(`${pid} has data but no identifier points to it (an orphan)`);
      continue;
    }
    if (p.data || p.merged.length) out.push(`${pid} was merged into ${p.alias} but still has data`);
    let root = p.alias;
    for (let hops = 0; s.profiles.get(root)?.alias !== undefined && hops < 64; hops++) root = s.profiles.get(root)!.alias!;
    if (!s.profiles.get(root)?.merged.includes(pid)) out.push(`${pid} leads to ${root}, which does not list it as merged`);
  }
  return out;
}
