/** `bench [scenario]`: throughput and latency percentiles on the real stack, each with a raw baseline from the same run. */
import type { Command } from 'commander';
import { ProfileStreamError } from '@profile-stream/consumer-kit';
import { createStack, stackUp } from '@profile-stream/infra';
import { benchApi } from '../bench/api.ts';
import { benchClients } from '../bench/clients.ts';
import { benchIdentity } from '../bench/identity.ts';
import { benchKafka } from '../bench/kafka.ts';
import { benchPredict } from '../bench/predict.ts';
import { benchSegments } from '../bench/segments.ts';
import { benchStitch } from '../bench/stitch.ts';
import { benchWarehouse } from '../bench/warehouse.ts';
import { cliContext } from '../context.ts';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('benchmarks (scenarios: kafka, clients, stitch, segments, warehouse, api, predict) and the identity soak (identity)')
    .argument('[scenario]', 'kafka | clients | stitch | segments | warehouse | api | predict | identity', 'kafka')
    .option('-n, --events <n>', 'events (api: profiles; predict: profiles scored on the stack, at most 20,000)', (v) => Number(v), 100_000)
    .option('-r, --rate <n>', 'events/s for the latency run', (v) => Number(v), 5000)
    .option('--rates <list>', 'segments, clients: latency runs (events/s; default 5000,10000; clients 1000,5000)', (v) => v.split(',').map(Number))
    .option('--seconds <n>', 'segments, clients, api: seconds per latency run', (v) => Number(v), 10)
    .option('-c, --connections <n>', 'api: concurrent connections of the closed-loop load', (v) => Number(v), 32)
    .option('--page-runs <n>', 'api: opens of the support page timed in headless Chromium (0: not timed)', (v) => Number(v), 30)
    .option('--handler-ms <ms>', 'clients: simulated handler time per batch of up to 500', (v) => Number(v), 5)
    .option('--fetch-wait <ms>', 'clients: @platformatic/kafka fetches wait up to this for 64 KiB (default: answer with the first message)', (v) => Number(v))
    .option('--scheduled <n>', 'segments: profiles scheduled for a time-driven exit (0: that part is skipped)', (v) => Number(v), 100_000)
    .option('--window <s>', 'segments: seconds over which their exits fall', (v) => Number(v), 60)
    .option('--warmup <s>', 'segments: seconds of load at the first rate before the measured runs, not measured (0: none)', (v) => Number(v), 5)
    .option('--rounds <n>', 'identity: soak rounds', (v) => Number(v), 30)
    .option('--customers <n>', 'identity: customers per round; predict: simulated customers fitted (default 100000)', (v) => Number(v))
    .option('--seed <n>', 'identity: seed of the first round', (v) => Number(v), 1)
    .option('--company-share <x>', "segments: share of customer triples that are a company's contacts (their events carry an account)", (v) => Number(v))
    .option(
      '--issue15',
      'segments: per rate, runs without and with loyalty (events + stitcher) and accounts (--company-share, default 0.1), twice each, and prints the ratio',
    )
    .option(
      '--loyalty-fetch-wait <ms>',
      'segments, with --issue15: the loyalty stitcher answers its fetches only after this wait or 1 MiB (STITCHER_FETCH_MIN_BYTES / STITCHER_FETCH_MAX_WAIT_MS)',
      (v) => Number(v),
    )
    .option(
      '--loyalty-on-purchases',
      'segments, with --issue15: no loyalty stitcher of its own; the purchases stitcher consumes the loyalty topic too (STITCHER_ALSO_TOPICS=loyalty), in every run',
    )
    .option(
      '--floor',
      "segments: stand-ins for the stitcher and the segmenter (the same consume loop, decode, encode and produce, no Redis, no logic): the pipeline's shape alone",
    )
    .action(
      async (
        scenario: string,
        o: {
          events: number;
          rate: number;
          rates: number[] | undefined;
          seconds: number;
          scheduled: number;
          window: number;
          warmup: number;
          rounds: number;
          customers: number | undefined;
          seed: number;
          companyShare: number | undefined;
          issue15: boolean | undefined;
          floor: boolean | undefined;
          loyaltyFetchWait: number | undefined;
          loyaltyOnPurchases: boolean | undefined;
          handlerMs: number;
          fetchWait: number | undefined;
          connections: number;
          pageRuns: number;
        },
      ) => {
        const ctx = cliContext('bench');
        ctx.log.level = 'warn';
        await stackUp(createStack(ctx.conn, ctx.log));
        if (scenario === 'kafka') await benchKafka(ctx, o);
        else if (scenario === 'clients') await benchClients(ctx, { ...o, rates: o.rates ?? [1000, 5000], fetchWaitMs: o.fetchWait });
        else if (scenario === 'stitch') await benchStitch(ctx, o);
        else if (scenario === 'segments')
          await benchSegments(ctx, {
            ...o,
            rates: o.rates ?? [5000, 10000],
            ...(o.loyaltyFetchWait === undefined ? {} : { loyaltyFetchWaitMs: o.loyaltyFetchWait }),
          });
        else if (scenario === 'warehouse') await benchWarehouse(ctx, o);
        else if (scenario === 'predict') await benchPredict(ctx, { customers: o.customers ?? 100_000, profiles: Math.min(o.events, 20_000) });
        else if (scenario === 'api') await benchApi(ctx, { profiles: o.events, connections: o.connections, seconds: o.seconds, pageRuns: o.pageRuns });
        else if (scenario === 'identity') {
          if (!(await benchIdentity(ctx, { ...o, customers: o.customers ?? 2000 }))) process.exitCode = 1;
        } else
          throw new ProfileStreamError(
            'invalid_options',
            `unknown scenario ${scenario} (known: kafka, clients, stitch, segments, warehouse, api, predict, identity)`,
          );
      },
    );
}
