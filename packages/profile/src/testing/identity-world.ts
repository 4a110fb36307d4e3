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

export interface OracleCustomer {
  identifiers: string[];
  doc: ProfileDoc;
}

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

/** A customer as an oracle sees it: its identifiers (`<type>:<value>`) and its document. */
export interface ExpectedCustomer {
  identifiers: readonly string[];
  doc: ProfileDoc;
}

export interface Convergence {
  /** Empty when the store holds exactly the expected customers and every invariant holds. */
  errors: string[];
  /** Profiles absorbed into the customers' roots. */
  merges: number;
}

/**
 * What is wrong with the store against the expected customers: the invariants (settled by default), and per customer:
 * all its identifiers on one root, no two customers on one root, the root's document the expected one.
 */
export async function checkConvergence(
  redis: Redis,
  store: ProfileStore,
  customers: readonly ExpectedCustomer[],
  o: { limits?: Limits; settled?: boolean } = {},
): Promise<Convergence> {
  const errors = violations(await snapshot(redis, store.keys), { settled: o.settled ?? true, ...(o.limits ? { limits: o.limits } : {}) });
  const rootOf = new Map<string, number>();
  let merges = 0;
  const check = async (c: ExpectedCustomer, n: number) => {
    const owners = new Set(
      await Promise.all(
        c.identifiers.map(async (k) => {
          const [type, ...value] = k.split(':');
          return (await store.owner(type as never, value.join(':'))) ?? `(none for ${k})`;
        }),
      ),
    );
    if (owners.size !== 1) {
      errors.push(`customer ${n} [${c.identifiers.join(', ')}] is split over ${[...owners].join(', ')}`);
      return;
    }
    const root = [...owners][0]!;
    if (rootOf.has(root)) errors.push(`customers ${rootOf.get(root)} and ${n} share profile ${root}`);
    rootOf.set(root, n);
    const stored = await store.read(root);
    merges += stored?.mergedIds.length ?? 0;
    const want = JSON.stringify(sortKeys(c.doc));
    const got = JSON.stringify(sortKeys(stored?.doc ?? {}));
    if (want !== got) errors.push(`customer ${n} [${c.identifiers.join(', ')}] on ${root}: document ${got} is not the oracle's ${want}`);
  };
  for (let i = 0; i < customers.length; i += 200) await Promise.all(customers.slice(i, i + 200).map((c, j) => check(c, i + j)));
  return { errors, merges };
}

/** What is wrong with the store after `events` went in (empty = right). */
export async function convergenceErrors(
  redis: Redis,
  store: ProfileStore,
  events: readonly TestEvent[],
  o: { limits?: Limits; settled?: boolean } = {},
): Promise<string[]> {
  return (await checkConvergence(redis, store, oracleCustomers(events), o)).errors;
}

function sortKeys(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, x]) => [k, sortKeys(x)]),
  );
}
