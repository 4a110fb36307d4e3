/**
 * `produce <topic> <file.jsonl>`: JSON lines → Avro through the registry → Kafka. A bad line is reported
 * with its line number and reason and the rest is sent; exit code 2 when any line was refused.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { eventKey, isContractError } from '@profile-stream/contracts';
import { errorMessage } from '@profile-stream/consumer-kit';
import { openClients } from '../clients.ts';
import { cliContext } from '../context.ts';
import { Sender } from '../sender.ts';

export interface ProduceReport {
  sent: number;
  rejected: { line: number; reason: string }[];
  seconds: number;
}

export async function produceFile(topicName: string, file: string, opts: { quiet?: boolean } = {}): Promise<ProduceReport> {
  const ctx = cliContext('produce');
  const clients = openClients(ctx);
  const spec = clients.topic(topicName);
  const t0 = performance.now();
  const rejected: ProduceReport['rejected'] = [];
  const sender = new Sender(await clients.producer());
  const input = file === '-' ? process.stdin : createReadStream(file, 'utf8');
  let n = 0;
  try {
    for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
      n++;
      if (raw.trim() === '') continue;
      const reject = (reason: string) => {
        rejected.push({ line: n, reason });
        if (!opts.quiet) process.stderr.write(`${file}:${n}: ${reason}\n`);
      };
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (err) {
        reject(`invalid JSON: ${errorMessage(err)}`);
        continue;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        reject('expected a JSON object');
        continue;
      }
      try {
        const bytes = await clients.registry.encode(spec.topic, value);
        await sender.add(spec.topic, { key: eventKey(spec.id, value as Record<string, unknown>), value: bytes });
      } catch (err) {
        if (!isContractError(err) || err.retriable) throw err;
        reject(`${err.code}: ${err.message}`);
      }
    }
    await sender.flush();
  } finally {
    await clients.close();
  }
  return { sent: sender.sent, rejected, seconds: (performance.now() - t0) / 1000 };
}

export function registerProduce(program: Command): void {
  program
    .command('produce')
    .description('send JSON lines to a topic as Avro (through the schema registry); bad lines are reported, the rest is sent')
    .argument('<topic>', 'topic name or id (clickstream, purchases, support-tickets, ...)')
    .argument('<file>', 'JSON lines file, or - for stdin')
    .option('--json', 'print the report as JSON')
    .action(async (topic: string, file: string, opts: { json?: boolean }) => {
      const r = await produceFile(topic, file);
      if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else
        process.stdout.write(
          `sent ${r.sent} to ${topic}, rejected ${r.rejected.length} line(s) in ${r.seconds.toFixed(1)} s (${Math.round(r.sent / r.seconds)} events/s)\n`,
        );
      if (r.rejected.length) process.exitCode = 2;
    });
}
