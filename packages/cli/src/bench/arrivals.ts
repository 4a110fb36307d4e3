/**
 * `bench segments`' latencies from what its producer sent and its observer saw (segments-child.ts): send and arrival
 * times joined by event id (the same machine clock).
 */
import type { Arrivals } from './segments-child.ts';
import { summarize } from './stats.ts';

/** Calls `each` for every arrival whose id was sent: its index in `arrivals`, its id and its latency. */
function eachJoined(sent: Map<string, number>, arrivals: Arrivals | undefined, each: (i: number, id: string, latency: number) => void): void {
  arrivals?.ids.forEach((id, i) => {
    const at = id === null ? undefined : sent.get(id);
    if (at !== undefined) each(i, id!, arrivals.at[i]! - at);
  });
}

/** Each send time joined with the arrival times of the messages that answer it: one latency per arrival. */
export function joinArrivals(sent: Map<string, number>, arrivals: Arrivals | undefined): { latencies: number[]; ids: Set<string> } {
  const latencies: number[] = [];
  const ids = new Set<string>();
  eachJoined(sent, arrivals, (_, id, latency) => {
    latencies.push(latency);
    ids.add(id);
  });
  return { latencies, ids };
}

/**
 * Input → membership per segment and change, and the part after the input's profile change (its first arrival on
 * profile-changes → the membership event): which segments the tail is in, and whether it is before or after the
 * stitcher.
 */
export function bySegment(sent: Map<string, number>, membership: Arrivals | undefined, changes: Arrivals | undefined): Record<string, string | number>[] {
  const changed = new Map<string, number>();
  changes?.ids.forEach((id, i) => {
    if (id !== null && !changed.has(id)) changed.set(id, changes.at[i]!);
  });
  const groups = new Map<string, { total: number[]; after: number[] }>();
  eachJoined(sent, membership, (i, id, latency) => {
    const label = membership!.labels?.[i] ?? '?';
    const g = groups.get(label) ?? { total: [], after: [] };
    groups.set(label, g);
    g.total.push(latency);
    const c = changed.get(id);
    if (c !== undefined) g.after.push(membership!.at[i]! - c);
  });
  return [...groups]
    .sort((x, y) => y[1].total.length - x[1].total.length)
    .map(([label, g]) => {
      const t = summarize(g.total);
      const a = summarize(g.after);
      return { 'segment change': label, events: g.total.length, p50_ms: t.p50, p99_ms: t.p99, 'after its profile change p50/p99 ms': `${a.p50}/${a.p99}` };
    });
}
