/** `bench [scenario]`: throughput and latency percentiles on the real stack, each with a raw baseline from the same run. */
import type { Command } from 'commander';
import { createStack, stackUp } from '@profile-stream/infra';
import { benchKafka } from '../bench/kafka.ts';
import { benchStitch } from '../bench/stitch.ts';
import { cliContext } from '../context.ts';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('benchmarks (scenarios: kafka, stitch)')
    .argument('[scenario]', 'kafka | stitch', 'kafka')
    .option('-n, --events <n>', 'events', (v) => Number(v), 100_000)
    .option('-r, --rate <n>', 'events/s for the latency run', (v) => Number(v), 5000)
    .action(async (scenario: string, o: { events: number; rate: number }) => {
      const ctx = cliContext('bench');
      ctx.log.level = 'warn';
      await stackUp(createStack(ctx.conn, ctx.log));
      if (scenario === 'kafka') await benchKafka(ctx, o);
      else if (scenario === 'stitch') await benchStitch(ctx, o);
      else throw new Error(`unknown scenario ${scenario} (known: kafka, stitch)`);
    });
}
