import type { Command } from 'commander';
import { createKafka } from '@profile-stream/consumer-kit';
import {
  cleanScratch,
  createStack,
  formatRetention,
  loadTopicPolicy,
  provision,
  stackDown,
  stackStatus,
  stackUp,
  topicNames,
  topicRetention,
  type ProvisionResult,
  type TopicRetention,
} from '@profile-stream/infra';
import type { CliContext } from '../context.ts';
import { cliContext } from '../context.ts';
import { printTable } from '../table.ts';

export function registerStack(program: Command): void {
  const stack = program.command('stack').description('the local Kafka, schema registry, Redis and ClickHouse');
  stack
    .command('up')
    .description('fetch (once), start and provision the local stack; idempotent')
    .action(async () => {
      const ctx = cliContext('stack');
      const s = createStack(ctx.conn, ctx.log);
      const r = await stackUp(s);
      for (const [name, state] of Object.entries(r.states)) process.stdout.write(`${name.padEnd(18)} ${state}\n`);
      printProvisioned(await provisionAll(ctx), false);
      process.stdout.write(`stack up in ${r.seconds.toFixed(1)} s (logs in ${s.ctx.logDir})\n`);
    });
  stack
    .command('provision')
    .description('register the schemas (BACKWARD) and create the topics and DLQs on the configured Kafka and registry (no processes started)')
    .action(async () => {
      printProvisioned(await provisionAll(cliContext('stack')), true);
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
    .description('each part with pid, port, version and log file; each topic with its cleanup policy, retention and compaction lag')
    .option('--json', 'machine-readable output: {parts, topics}')
    .action(async (opts: { json?: boolean }) => {
      const { conn, log, topics } = cliContext('stack');
      const rows = await stackStatus(createStack(conn, log));
      const kafkaUp = rows.some((r) => r.name === 'kafka' && (r.state === 'up' || r.state === 'external'));
      const quiet = log.child({}, { level: 'silent' });
      const retention = kafkaUp
        ? await topicRetention(createKafka({ brokers: conn.kafka.brokers, clientId: 'profile-stream-cli', logger: quiet }), topicNames(topics))
        : [];
      if (opts.json) process.stdout.write(`${JSON.stringify({ parts: rows, topics: retention }, null, 2)}\n`);
      else {
        printTable(rows.map((r) => ({ part: r.name, state: r.state, pid: r.pid ?? '', port: r.port ?? '', version: r.version, log: r.log ?? '' })));
        process.stdout.write('\n');
        if (kafkaUp) printTable(retention.map(topicRow));
        else process.stdout.write('topics: Kafka is not answering\n');
      }
      if (rows.some((r) => r.state === 'down' || r.state === 'not answering')) process.exitCode = 3;
    });
}

/** Registers the schemas and creates/aligns the topics with the retention settings of the environment. */
function provisionAll(ctx: CliContext): Promise<ProvisionResult> {
  return provision(ctx.conn, ctx.topics, ctx.log, loadTopicPolicy(ctx.env));
}

function printProvisioned(p: ProvisionResult, sayAllExist: boolean): void {
  process.stdout.write(`schemas: ${p.subjects.map((x) => `${x.subject}#${x.id}`).join(' ')}\n`);
  if (p.createdTopics.length) process.stdout.write(`created topics: ${p.createdTopics.join(' ')}\n`);
  else if (sayAllExist) process.stdout.write('all topics exist\n');
  if (p.alignedTopics.length) process.stdout.write(`topic configs aligned with the retention settings: ${p.alignedTopics.join(' ')}\n`);
  if (p.otherPartitions.length)
    process.stdout.write(
      `partition counts kept (TOPIC_PARTITIONS applies to topics created from now on): ${p.otherPartitions.map((t) => `${t.topic} ${t.partitions}`).join(' ')}\n`,
    );
}

function topicRow(t: TopicRetention): Record<string, string> {
  return {
    topic: t.topic,
    cleanup: t.cleanupPolicy,
    retention: formatRetention(t.retentionMs),
    'compaction lag': t.maxCompactionLagMs === undefined ? '' : formatRetention(t.maxCompactionLagMs),
    segment: formatRetention(t.segmentMs),
  };
}
