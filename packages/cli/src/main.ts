#!/usr/bin/env node
/**
 * profile-stream: the command line for the whole pipeline. Each command lives in commands/<name>.ts.
 * Errors with a stable code print one line (`profile-stream: <code>: <message>`) and exit 1.
 */
import { Command } from 'commander';
import { codeOf } from '@profile-stream/consumer-kit';
import { registerAccount } from './commands/account.ts';
import { registerApiKey } from './commands/apikey.ts';
import { registerBench } from './commands/bench.ts';
import { registerConsume } from './commands/consume.ts';
import { registerDemo } from './commands/demo.ts';
import { registerDlq } from './commands/dlq.ts';
import { registerErase } from './commands/erase.ts';
import { registerGenerate } from './commands/generate.ts';
import { registerImport } from './commands/import.ts';
import { registerPredict } from './commands/predict.ts';
import { registerProduce } from './commands/produce.ts';
import { registerProfile } from './commands/profile.ts';
import { registerRfm } from './commands/rfm.ts';
import { registerRun } from './commands/run.ts';
import { registerSegments } from './commands/segments.ts';
import { registerSql } from './commands/sql.ts';
import { registerStack } from './commands/stack.ts';
import { showStacks } from './context.ts';

const program = new Command('profile-stream')
  .description('Event-streaming customer profiles: Kafka + Avro in, Redis profiles, segments, ClickHouse')
  .version('0.1.0')
  .showHelpAfterError();

registerStack(program);
registerGenerate(program);
registerProduce(program);
registerImport(program);
registerConsume(program);
registerDlq(program);
registerDemo(program);
registerRun(program);
registerProfile(program);
registerAccount(program);
registerApiKey(program);
registerErase(program);
registerSegments(program);
registerRfm(program);
registerPredict(program);
registerSql(program);
registerBench(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Errors with a code (ours, or a library's) are one line that says what to do; anything else keeps its stack.
  const code = codeOf(err);
  if (code && err instanceof Error) process.stderr.write(`profile-stream: ${code}: ${err.message}\n`);
  else process.stderr.write(`profile-stream: ${err instanceof Error ? (showStacks() ? err.stack : err.message) : String(err)}\n`);
  process.exit(1);
}
