/**
 * Per-hop figures of a service, from its `ps_hop_seconds` histogram (HOPS in consumer-kit's metrics.ts): scraped
 * from /metrics before and after a measured phase, the difference per hop (summed over topics) as a table: count,
 * mean, p50/p95/p99 interpolated linearly within the histogram's buckets (as Prometheus's histogram_quantile does;
 * the buckets double, so a percentile is exact to within its bucket) and the share of the cycle.
 */
import { HOPS, type Hop, type HopScope } from '@profile-stream/consumer-kit';

export interface HopHistogram {
  /** Cumulative counts by upper bound (seconds; Infinity for +Inf). */
  buckets: Map<number, number>;
  sum: number;
  count: number;
}

export type HopSnapshot = Map<string, HopHistogram>;

const LINE = /^ps_hop_seconds_(bucket|sum|count)\{([^}]*)\}\s+(\S+)/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** The ps_hop_seconds series of a Prometheus text exposition, summed over topics, by hop. */
export function parseHops(text: string): HopSnapshot {
  const out: HopSnapshot = new Map();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(LABEL)].map((l) => [l[1]!, l[2]!]));
    const hop = labels.hop;
    if (hop === undefined) continue;
    let h = out.get(hop);
    if (!h) {
      h = { buckets: new Map(), sum: 0, count: 0 };
      out.set(hop, h);
    }
    const value = Number(m[3]);
    if (m[1] === 'sum') h.sum += value;
    else if (m[1] === 'count') h.count += value;
    else {
      const le = labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels.le);
      h.buckets.set(le, (h.buckets.get(le) ?? 0) + value);
    }
  }
  return out;
}

const ROUND = /^ps_profile_fold_rounds_total\{([^}]*)\}\s+(\S+)/;

/**
 * A stitcher's fold rounds (`ps_profile_fold_rounds_total`) by "base → answer": how often its kept documents served,
 * and how often another writer had moved a profile on (a stale round: one more round trip and join).
 */
export function parseFoldRounds(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = ROUND.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1]!.matchAll(LABEL)].map((l) => [l[1]!, l[2]!]));
    const key = `${labels.base} → ${labels.result}`;
    out.set(key, (out.get(key) ?? 0) + Number(m[2]));
  }
  return out;
}

/** What a benchmark reads of a service's /metrics: its hops and, for a stitcher, its fold rounds. */
export interface ServiceSnapshot {
  hops: HopSnapshot;
  rounds: Map<string, number>;
}

export async function scrapeService(opsPort: number): Promise<ServiceSnapshot> {
  const res = await fetch(`http://127.0.0.1:${opsPort}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics on port ${opsPort}: HTTP ${res.status}`);
  const text = await res.text();
  return { hops: parseHops(text), rounds: parseFoldRounds(text) };
}

/** Fold rounds between two snapshots, most frequent first ("known → written 6,012 · read → stale 31"); '' if none. */
export function roundsLine(after: Map<string, number>, before: Map<string, number>): string {
  return [...after]
    .map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`)
    .join(' · ');
}

/** What happened between two snapshots of the same process. */
export function hopDelta(after: HopSnapshot, before: HopSnapshot): HopSnapshot {
  const out: HopSnapshot = new Map();
  for (const [hop, a] of after) {
    const b = before.get(hop);
    const buckets = new Map([...a.buckets].map(([le, n]) => [le, n - (b?.buckets.get(le) ?? 0)]));
    out.set(hop, { buckets, sum: a.sum - (b?.sum ?? 0), count: a.count - (b?.count ?? 0) });
  }
  return out;
}

/** The q-quantile (0..1) in seconds, interpolated linearly within its bucket; NaN when the histogram is empty. */
export function quantile(h: HopHistogram, q: number): number {
  if (h.count <= 0) return Number.NaN;
  const rank = q * h.count;
  let lower = 0;
  let below = 0;
  for (const [le, cum] of [...h.buckets].sort((x, y) => x[0] - y[0])) {
    if (cum >= rank && cum > below) {
      if (le === Number.POSITIVE_INFINITY) return lower; // above the last bound: the bound is all we know
      return lower + ((le - lower) * (rank - below)) / (cum - below);
    }
    lower = le;
    below = cum;
  }
  return lower;
}

const ms = (s: number) => (Number.isNaN(s) ? '' : s * 1000 >= 100 ? (s * 1000).toFixed(0) : s * 1000 >= 10 ? (s * 1000).toFixed(1) : (s * 1000).toFixed(2));

/**
 * One row per hop that was seen, in HOPS order. Share: of the cycle's total time for the cycle's hops and the
 * handler's phases (per partition: they follow each other), of the relay round's for the relay's hops, of `durable`
 * (a chunk's time in the background) for the background hops (deferred effects and the commit); none for
 * per-message hops (messages of a chunk overlap) and fetch requests (a loop of their own).
 */
/** Per scope: what one observation is of, and the hop whose total its share is of (none: no share). */
const SCOPE_ROWS: Record<HopScope, { per: string; of?: Hop }> = {
  request: { per: 'request' },
  cycle: { per: 'chunk', of: 'cycle' },
  handler: { per: 'chunk', of: 'cycle' },
  background: { per: 'chunk', of: 'durable' },
  message: { per: 'message' },
  relay: { per: 'round', of: 'relay_cycle' },
};

export function hopRows(delta: HopSnapshot): Record<string, string | number>[] {
  const rows = [];
  for (const [hop, def] of Object.entries(HOPS) as [Hop, (typeof HOPS)[Hop]][]) {
    const h = delta.get(hop);
    if (!h || h.count <= 0) continue;
    const { per, of } = SCOPE_ROWS[def.scope];
    const whole = of === undefined ? 0 : (delta.get(of)?.sum ?? 0);
    rows.push({
      hop: def.scope === 'handler' || def.scope === 'message' ? `  ${hop}` : hop,
      per: hop === 'fetch_wait' ? 'batch' : per,
      count: h.count,
      mean_ms: ms(h.sum / h.count),
      p50_ms: ms(quantile(h, 0.5)),
      p95_ms: ms(quantile(h, 0.95)),
      p99_ms: ms(quantile(h, 0.99)),
      share: whole > 0 ? `${((100 * h.sum) / whole).toFixed(1)} %` : '',
    });
  }
  return rows;
}
