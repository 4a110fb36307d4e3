/**
 * `rfm compute [--as-of <time>] [--json]`: the population's RFM breakpoints computed now in ClickHouse (the
 * warehouse's query, packages/warehouse/src/rfm.ts) and stored as the next version in Redis; a degenerate population
 * keeps the current version and fails with `degenerate_population`. `rfm show [--history] [--json]`: the current
 * version (and the ones kept). Running segmenters (RFM_BREAKPOINTS=population) pick a new version up on their next poll.
 */
import type { Command } from 'commander';
import { ProfileStreamError } from '@profile-stream/consumer-kit';
import { RFM_VERSIONS_KEPT, type RfmVersion, RfmVersions } from '@profile-stream/segments';
import { computeRfmVersion, describeRfmResult, loadWarehouseConfig, openAnalystClient } from '@profile-stream/warehouse';
import { parseAsOf } from '../as-of.ts';
import { withRedis } from '../clients.ts';
import { cliContext } from '../context.ts';
import { printTable } from '../table.ts';

const DAY = 86_400_000;

/** One row per score boundary: what a customer needs for each score. */
function printBreakpoints(v: RfmVersion): void {
  const b = v.breakpoints;
  const days = (ms: number) => `${(ms / DAY).toFixed(2)} d`;
  printTable([
    { measure: 'recency (last purchase age <)', ...Object.fromEntries(b.recency_ms.map((x, i) => [`score ${5 - i}`, days(x)])), 'score 1': 'older' },
    { measure: 'frequency (orders ≥)', 'score 1': 'fewer', ...Object.fromEntries(b.frequency.map((x, i) => [`score ${i + 2}`, x])) },
    ...Object.entries(b.monetary).map(([cur, m]) => ({
      measure: `monetary ${cur} (net minor units ≥)`,
      'score 1': 'less',
      ...Object.fromEntries(m.map((x, i) => [`score ${i + 2}`, x])),
    })),
  ]);
}

function withVersions<T>(fn: (versions: RfmVersions) => Promise<T>): Promise<T> {
  const ctx = cliContext('rfm');
  return withRedis(ctx.conn.redis.url, (redis) => fn(new RfmVersions(redis, ctx.redisPrefix)));
}

export function registerRfm(program: Command): void {
  const rfm = program.command('rfm').description('RFM breakpoints from the population (quintiles in ClickHouse, versioned in Redis)');

  rfm
    .command('compute')
    .description('compute the quintile breakpoints now and store them as the next version (a degenerate population keeps the current one)')
    .option('--as-of <time>', 'the instant recency ages are measured from (ISO-8601 or epoch ms)', 'now')
    .option('--json', 'the result as JSON')
    .action(async (opts: { asOf: string; json?: boolean }) => {
      const cfg = loadWarehouseConfig(cliContext('rfm').env);
      const now = Date.now();
      const asOf = parseAsOf(opts.asOf, now);
      const a = await openAnalystClient({ url: cfg.conn.clickhouse.url, database: cfg.database, opsPort: cfg.opsPort, dataDir: cfg.dataDir });
      try {
        const r = await withVersions((versions) =>
          computeRfmVersion({ client: a.client, database: cfg.database, versions, now, asOf, minCustomers: cfg.rfmMinCustomers }),
        );
        if (opts.json) {
          const body = r.kind === 'published' ? { result: 'published', version: r.version } : { result: 'kept', reason: r.reason, current: r.previous };
          process.stdout.write(`${JSON.stringify({ ...body, quintiles: r.quintiles, ms: r.ms, warehouse: a.location }, null, 2)}\n`);
        }
        if (r.kind === 'kept') throw new ProfileStreamError('degenerate_population', describeRfmResult(r));
        if (!opts.json) {
          process.stdout.write(`${describeRfmResult(r)}\n\n`);
          printBreakpoints(r.version);
        }
      } finally {
        await a.close();
      }
    });

  rfm
    .command('show')
    .description('the current breakpoint version (with --history, the versions kept)')
    .option('--history', `every version kept (up to ${RFM_VERSIONS_KEPT}), newest first`)
    .option('--json', 'JSON instead of tables')
    .action(async (opts: { history?: boolean; json?: boolean }) => {
      await withVersions(async (versions) => {
        const list = opts.history ? await versions.history() : [await versions.current()].filter((v): v is RfmVersion => v !== null);
        const backfilled = await versions.backfilled();
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(opts.history ? { versions: list, backfilled } : { current: list[0] ?? null, backfilled }, null, 2)}\n`);
          return;
        }
        if (list.length === 0) {
          process.stdout.write('no RFM breakpoint version yet: run `profile-stream rfm compute` (segmenters use the static model until then)\n');
          return;
        }
        for (const v of list) {
          const state = v.version <= backfilled ? 'existing profiles re-scored' : 'existing profiles not re-scored yet';
          process.stdout.write(`version ${v.version}: ${v.population.customers} customers, computed ${v.computed_at}, as of ${v.as_of}; ${state}\n`);
          printBreakpoints(v);
          process.stdout.write('\n');
        }
      });
    });
}
