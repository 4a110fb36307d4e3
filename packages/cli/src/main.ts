#!/usr/bin/env node
/**
 * profile-stream: the command line for the whole pipeline. Each command lives in commands/<name>.ts.
 * Errors with a stable code print one line (`profile-stream: <code>: <message>`) and exit 1.
 */
import { Command } from 'commander';
import { ProfileStreamError } from '@profile-stream/consumer-kit';
import { registerConsume } from './commands/consume.ts';
import { registerDemo } from './commands/demo.ts';
import { registerDlq } from './commands/dlq.ts';
import { registerGenerate } from './commands/generate.ts';
import { registerProduce } from './commands/produce.ts';
import { registerStack } from './commands/stack.ts';

const program = new Command('profile-stream')
  .description('Event-streaming customer profiles: Kafka + Avro in, Redis profiles, segments, ClickHouse')
  .version('0.1.0')
  .showHelpAfterError();

registerStack(program);
registerGenerate(program);
registerProduce(program);
registerConsume(program);
registerDlq(program);
registerDemo(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ProfileStreamError) {
    process.stderr.write(`profile-stream: ${err.code}: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
