/**
 * The pipeline's oracle (tests, the identity soak): valid events with a usable identifier, grouped into customers by
 * the identifiers they share (union-find over normalised identifiers), each customer folded by the reference fold of
 * its sorted unique events. Valid as long as no customer breaks an identity limit (then no merge is refused).
 */
import { foldEvents, type FoldInput } from '../fold.ts';
import type { ProfileDoc } from '../doc.ts';
import { hasIdentifier, normaliseIdentifiers, type NormalisedIds } from '../normalise.ts';

export interface OracleProfile {
  /** `<type>:<value>` of every identifier of the customer, in priority order of first appearance. */
  keys: string[];
  doc: ProfileDoc;
  events: FoldInput[];
}

/** A record as producers send it: topic and plain-JSON value; malformed records (tests' raw bytes) are skipped. */
export type OracleRecord = { topic: string; value: unknown } | { malformed: unknown };

export function oracleProfiles(records: Iterable<OracleRecord>, region = 'GB'): OracleProfile[] {
  const inputs: FoldInput[] = [];
  for (const r of records) {
    if ('malformed' in r) continue;
    const ids = normaliseIdentifiers(r.value as never, { defaultRegion: region, blocklist: new Set() });
    if (!hasIdentifier(ids)) continue;
    inputs.push({ topic: r.topic, event: r.value, ids } as unknown as FoldInput);
  }
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let p = parent.get(x) ?? x;
    while (p !== (parent.get(p) ?? p)) p = parent.get(p) ?? p;
    parent.set(x, p);
    return p;
  };
  const keysOf = (ids: NormalisedIds) => (['user_id', 'email', 'phone', 'anonymous_id'] as const).flatMap((t) => (ids[t] ? [`${t}:${ids[t]}`] : []));
  for (const e of inputs) {
    const [first, ...rest] = keysOf(e.ids);
    for (const k of rest) {
      const a = find(first!);
      const b = find(k);
      if (a !== b) parent.set(a, b);
    }
    if (first) find(first);
  }
  const groups = new Map<string, FoldInput[]>();
  for (const e of inputs) {
    const root = find(keysOf(e.ids)[0]!);
    const g = groups.get(root) ?? [];
    g.push(e);
    groups.set(root, g);
  }
  return [...groups.values()].map((events) => ({ keys: [...new Set(events.flatMap((e) => keysOf(e.ids)))], doc: foldEvents(events), events }));
}
