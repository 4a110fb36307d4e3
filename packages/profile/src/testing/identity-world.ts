/**
 * Identity scenarios for tests: small events carrying identifier sets, the oracle's answer for them (customers =
 * identifier sets linked by shared identifiers, union-find; each customer's document = the join of its unique events'
 * fragments), and a check of what Redis holds against both the oracle and the invariants.
 * A fragment counts its event under its own key and adds its amount to a sum, so an event lost or applied twice
 * shows in the document.
 */
import type { Redis } from 'ioredis';
import { join } from '../join.ts';
import type { ProfileDoc } from '../doc.ts';
import type { Identifiers, Limits } from '../store/identity.ts';
import { IDENTIFIER_PRIORITY } from '../store/keys.ts';
import type { ProfileStore, StitchItem } from '../store/store.ts';
import { snapshot, violations } from './invariants.ts';

export interface TestEvent {
  id: string;
  ids: Identifiers;
  amount: number;
  at: number;
}

export function fragmentOf(e: TestEvent): ProfileDoc {
  return { hw: e.at, activity: { events: { [e.id]: 1 } }, transactions: { revenue_minor: { GBP: e.amount } } };
}

export function stitchItem(e: TestEvent): StitchItem {
  return { ids: e.ids, eventId: e.id, occurredAt: e.at, fragment: () => fragmentOf(e) };
}

const idsOf = (ids: Identifiers): string[] => IDENTIFIER_PRIORITY.flatMap((t) => (ids[t] === undefined ? [] : [`${t}:${ids[t]}`]));

export interface OracleCustomer { identifiers: string[]; doc: ProfileDoc }

/** The oracle's customers (valid when no customer breaks a limit: then no merge is refused). */
export function oracleCustomers(events: readonly TestEvent[]): OracleCustomer[] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    while (parent.has(x) && parent.get(x) !== x) x = parent.get(x)!;
    return x;
  };
  for (const e of events) {
    const [first, ...rest] = idsOf(e.ids);
    if (!parent.has(first!)) parent.set(first!, first!);
    for (const k of rest) {
      if (!parent.has(k)) parent.set(k, k);
      const a = find(first!);
      const b = find(k);
      if (a !== b) parent.set(a, b);
    }
  }
  const groups = new Map<string, { identifiers: Set<string>; events: Map<string, TestEvent> }>();
  for (const e of events) {
    const root = find(idsOf(e.ids)[0]!);
    const g = groups.get(root) ?? { identifiers: new Set(), events: new Map() };
    for (const k of idsOf(e.ids)) g.identifiers.add(k);
    g.events.set(e.id, e);
    groups.set(root, g);
  }
  return [...groups.values()].map((g) => ({
    identifiers: [...g.identifiers].sort(),
    doc: [...g.events.values()].reduce<ProfileDoc>((doc, e) => join(doc, fragmentOf(e)), {}),
  }));
}

/**
 * What is wrong with the store after `events` went in (empty = right): the invariants (settled), and per oracle
 * customer: all its identifiers on one root, no two customers on one root, the root's document the oracle's.
 */
export async function convergenceErrors(redis: Redis, store: ProfileStore, events: readonly TestEvent[], o: { limits?: Limits; settled?: boolean } = {}): Promise<string[]> {
  const errors = violations(await snapshot(redis, store.keys), { settled: o.settled ?? true, ...(o.limits ? { limits: o.limits } : {}) });
  const seen = new Map<string, number>();
  const customers = oracleCustomers(events);
  for (const [n, c] of customers.entries()) {
    const owners = new Set(await Promise.all(c.identifiers.map(async (k) => {
      const [type, ...value] = k.split(':');
      return (await store.owner(type as never, value.join(':'))) ?? `(none for ${k})`;
    })));
    if (owners.size !== 1) {
      errors.push(`customer ${n} [${c.identifiers.join(', ')}] is split over ${[...owners].join(', ')}`);
      continue;
    }
    const root = [...owners][0]!;
    if (seen.has(root)) errors.push(`customers ${seen.get(root)} and ${n} share profile ${root}`);
    seen.set(root, n);
    const stored = await store.read(root);
    const want = JSON.stringify(sortKeys(c.doc));
    const got = JSON.stringify(sortKeys(stored?.doc ?? {}));
    if (want !== got) errors.push(`customer ${n} [${c.identifiers.join(', ')}] on ${root}: document ${got} is not the oracle's ${want}`);
  }
  return errors;
}

function sortKeys(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, x]) => [k, sortKeys(x)]));
}
