import type { Command } from 'commander';
import { cleanScratch, createStack, provision, stackDown, stackStatus, stackUp } from '@profile-stream/infra';
import { cliContext } from '../context.ts';
import { printTable } from '../table.ts';

export function registerStack(program: Command): void {
  const stack = program.command('stack').description('the local Kafka, schema registry, Redis and ClickHouse');
  stack
    .command('up')
    .description('fetch (once), start and provision the local stack; idempotent')
    .action(async () => {
      const { conn, log, topics } = cliContext('stack');
      const s = createStack(conn, log);
      const r = await stackUp(s);
      for (const [name, state] of Object.entries(r.states)) process.stdout.write(`${name.padEnd(18)} ${state}\n`);
      const p = await provision(conn, topics, log);
      process.stdout.write(`schemas: ${p.subjects.map((x) => `${x.subject}#${x.id}`).join(' ')}\n`);
      if (p.createdTopics.length) process.stdout.write(`created topics: ${p.createdTopics.join(' ')}\n`);
      process.stdout.write(`stack up in ${r.seconds.toFixed(1)} s (logs in ${s.ctx.logDir})\n`);
    });
  stack
    .command('provision')
    .description('register the schemas (BACKWARD) and create the topics and DLQs on the configured Kafka and registry (no processes started)')
    .action(async () => {
      const { conn, log, topics } = cliContext('stack');
      const p = await provision(conn, topics, log);
      process.stdout.write(`schemas: ${p.subjects.map((x) => `${x.subject}#${x.id}`).join(' ')}\n`);
      process.stdout.write(p.createdTopics.length ? `created topics: ${p.createdTopics.join(' ')}\n` : 'all topics exist\n');
    });
  stack
    .command('down')
    .description('stop the processes that stack up started (by pid file)')
    .action(async () => {
      const { conn, log } = cliContext('stack');
      const stopped = await stackDown(createStack(conn, log));
      process.stdout.write(stopped.length ? `stopped: ${stopped.join(', ')}\n` : 'nothing was running\n');
    });
  stack
    .command('clean')
    .description('remove what tests and benchmarks left on the stack: Redis keys, topics and consumer groups named t-… or bench-…')
    .option('--prefix <prefix...>', 'only these (each starting t- or bench-)')
    .action(async (opts: { prefix?: string[] }) => {
      const { conn, log } = cliContext('stack');
      const r = await cleanScratch(conn, log, opts.prefix);
      process.stdout.write(`removed ${r.keys} Redis keys, ${r.topics} topics, ${r.groups} consumer groups of tests and benchmarks\n`);
    });
  stack
    .command('status')
    .description('each part with pid, port, version and log file')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const { conn, log } = cliContext('stack');
      const rows = await stackStatus(createStack(conn, log));
      if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else printTable(rows.map((r) => ({ part: r.name, state: r.state, pid: r.pid ?? '', port: r.port ?? '', version: r.version, log: r.log ?? '' })));
      if (rows.some((r) => r.state === 'down' || r.state === 'not answering')) process.exitCode = 3;
    });
}
