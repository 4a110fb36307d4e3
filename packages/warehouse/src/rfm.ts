/**
 * RFM breakpoints from the population, computed in ClickHouse: one query over `purchases` gives each measure's
 * quintile values (recency, frequency, monetary per currency), cleaned as the profile fold cleans them:
 *   - the counted orders and their times as orders.ts defines them (shared with predict's fit);
 *   - the last purchase is the latest counted order (`last_purchase_at`);
 *   - net revenue per currency = completed totals − refunded totals − cancelled totals over all the customer's
 *     de-duplicated events (`revenue_minor`);
 *   - the population is the customers with at least one counted order (RFM says nothing of the others); a
 *     currency's monetary population is those of them with an event in that currency.
 * A customer here is a `customer_key` (the purchase's key), which is one profile unless stitching merged several.
 * The quintile rule and the tie rule are in packages/segments/src/rfm-population.ts; the versions in Redis in
 * rfm-versions.ts. Used by `profile-stream rfm compute` and by the warehouse's schedule (RFM_RECOMPUTE_MINUTES).
 */
import type { ClickHouseClient } from '@profile-stream/clickhouse';
import { errorMessage, type Logger, ProfileStreamError } from '@profile-stream/consumer-kit';
import { countedOrdersCtes } from './orders.ts';
import { populationModel, type PopulationQuintiles, type RfmVersion, type RfmVersions, versionDoc } from '@profile-stream/segments';

/** The query; `asOf` (epoch ms) is inlined because the warehouse's SQL port takes no query parameters. */
export function rfmQuintilesSql(database: string, asOf: number): string {
  if (!Number.isSafeInteger(asOf)) throw new ProfileStreamError('invalid_options', `as of: expected epoch milliseconds (got ${asOf})`);
  return `WITH
  ${countedOrdersCtes(database)},
  customers AS (
    SELECT customer_key, toInt64(countIf(counted)) AS frequency, maxIf(completed_at, counted) AS last_at
    FROM orders GROUP BY customer_key HAVING frequency > 0),
  revenue AS (
    SELECT currency, customer_key, sum(signed_total_minor) AS net FROM events
    WHERE customer_key IN (SELECT customer_key FROM customers) GROUP BY currency, customer_key)
SELECT measure, currency, length(v) AS n, arrayMap(k -> v[intDiv(k * length(v) + 4, 5)], [1, 2, 3, 4]) AS quintiles
FROM (
  SELECT 'recency' AS measure, '' AS currency, arraySort(groupArray(last_at - ${asOf})) AS v FROM customers
  UNION ALL SELECT 'frequency', '', arraySort(groupArray(frequency)) FROM customers
  UNION ALL SELECT 'monetary', currency, arraySort(groupArray(net)) FROM revenue GROUP BY currency)`;
}

interface QuintileRow {
  measure: 'recency' | 'frequency' | 'monetary';
  currency: string;
  n: string | number;
  quintiles: (string | number)[];
}

/** Each measure's quintile values as of `asOf` (recency's query value is −age, so ages come back oldest first). */
export async function populationQuintiles(client: ClickHouseClient, database: string, asOf: number): Promise<PopulationQuintiles> {
  const rows = await (await client.query({ query: rfmQuintilesSql(database, asOf), format: 'JSONEachRow' })).json<QuintileRow>();
  const out: { customers: number; recencyAges: number[]; frequency: number[]; monetary: PopulationQuintiles['monetary'] } = {
    customers: 0,
    recencyAges: [],
    frequency: [],
    monetary: {},
  };
  const monetary: Record<string, { customers: number; quintiles: number[] }> = {};
  for (const r of rows) {
    const q = r.quintiles.map(Number);
    if (r.measure === 'recency') {
      out.customers = Number(r.n);
      out.recencyAges = q.map((g) => 0 - g);
    } else if (r.measure === 'frequency') out.frequency = q;
    else monetary[r.currency] = { customers: Number(r.n), quintiles: q };
  }
  out.monetary = monetary;
  return out;
}

export type RfmComputeResult =
  | { kind: 'published'; version: RfmVersion; quintiles: PopulationQuintiles; ms: number }
  | { kind: 'kept'; previous: RfmVersion | null; reason: string; quintiles: PopulationQuintiles; ms: number };

export interface RfmComputeOptions {
  client: ClickHouseClient;
  database: string;
  versions: RfmVersions;
  /** Computation time (`computed_at`) and the instant ages are measured from (`as_of`, unless given). */
  now: number;
  asOf?: number;
  minCustomers: number;
}

/** Computes the population's breakpoints; stores them as the next version, or keeps the current one and says why. */
export async function computeRfmVersion(o: RfmComputeOptions): Promise<RfmComputeResult> {
  const t0 = performance.now();
  const asOf = o.asOf ?? o.now;
  let quintiles: PopulationQuintiles;
  try {
    quintiles = await populationQuintiles(o.client, o.database, asOf);
  } catch (err) {
    if (err instanceof ProfileStreamError) throw err;
    throw new ProfileStreamError('clickhouse_unavailable', `the RFM quintile query failed: ${errorMessage(err)}`, { cause: err });
  }
  const m = populationModel(quintiles, o.minCustomers);
  const ms = () => Math.round(performance.now() - t0);
  if (!m.ok) return { kind: 'kept', previous: await o.versions.current(), reason: m.reason, quintiles, ms: ms() };
  const version = await o.versions.publish(versionDoc(quintiles, m.model, m.skipped, o.now, asOf));
  return { kind: 'published', version, quintiles, ms: ms() };
}

/** One line for logs and the CLI. */
export function describeRfmResult(r: RfmComputeResult): string {
  if (r.kind === 'published') {
    const v = r.version;
    const skipped = Object.entries(v.skipped).map(([c, why]) => `; ${c} left out: ${why}`);
    return `RFM breakpoints version ${v.version} from ${v.population.customers} customers as of ${v.as_of} (${r.ms} ms)${skipped.join('')}`;
  }
  const kept = r.previous === null ? 'no version exists yet (the definitions keep their static model)' : `version ${r.previous.version} stays current`;
  return `degenerate population: ${r.reason}; ${kept}`;
}

export interface RfmSchedule {
  stop(): Promise<void>;
}

/**
 * Recomputes every `intervalMs`, and at start when the current version is older than that (a restarted warehouse
 * catches up; a fresh one computes after its first interval, or on `profile-stream rfm compute`). Several
 * warehouses: a lease lets one compute at a time, and each checks the version's age again once it holds it.
 * A failure is logged and the next interval tries again; the sink never waits for this.
 */
export function startRfmSchedule(o: {
  intervalMs: number;
  versions: RfmVersions;
  compute: () => Promise<RfmComputeResult>;
  owner: string;
  log: Logger;
  now: () => number;
}): RfmSchedule {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  /** Whether to compute: the current version is at least `minAgeMs` old (none at all: `ifNone`). */
  const due = async (minAgeMs: number, ifNone: boolean) => {
    const cur = await o.versions.current();
    return cur === null ? ifNone : o.now() - Date.parse(cur.computed_at) >= minAgeMs;
  };
  // At start: only a version older than the interval. On the timer: unless another warehouse computed within the
  // last half interval (checked again under the lease).
  const run = async (minAgeMs: number, ifNone: boolean) => {
    try {
      if (!(await due(minAgeMs, ifNone))) return;
      if (!(await o.versions.lock('compute', o.owner, 10 * 60_000))) return;
      try {
        if (!(await due(minAgeMs, ifNone))) return;
        const r = await o.compute();
        if (r.kind === 'published') o.log.info({ version: r.version.version, customers: r.version.population.customers, ms: r.ms }, describeRfmResult(r));
        else o.log.warn({ reason: r.reason, kept: r.previous?.version ?? null }, describeRfmResult(r));
      } finally {
        await o.versions.unlock('compute', o.owner);
      }
    } catch (err) {
      o.log.warn({ err: errorMessage(err) }, 'RFM breakpoints not computed; the next interval tries again');
    }
  };
  running = run(o.intervalMs, false);
  const timer = setInterval(() => {
    if (!stopped) running = running.then(() => run(o.intervalMs / 2, true));
  }, o.intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
