/** `consume <topic>`: decoded events as JSON lines on stdout (for users, scripts and tests). */
import type { Command } from 'commander';
import { toPlainJson } from '@profile-stream/contracts';
import { errorMessage } from '@profile-stream/consumer-kit';
import { openClients } from '../clients.ts';
import { cliContext } from '../context.ts';
import { readTopic } from '../read-topic.ts';

export function registerConsume(program: Command): void {
  program
    .command('consume')
    .description('print a topic as decoded JSON lines, from the beginning to its current end (or --follow)')
    .argument('<topic>', 'topic name or id')
    .option('-f, --follow', 'keep reading new events until Ctrl-C')
    .option('-n, --max <n>', 'stop after n events', (v) => Number.parseInt(v, 10))
    .option('--meta', 'wrap each event as {partition, offset, key, schema_id, value}')
    .action(async (topic: string, opts: { follow?: boolean; max?: number; meta?: boolean }) => {
      const ctx = cliContext('consume');
      const clients = openClients(ctx);
      const spec = clients.topic(topic);
      let bad = 0;
      const n = await readTopic(clients.kafka, spec.topic, opts, async (r) => {
        try {
          const d = await clients.registry.decode<Record<string, unknown>>(r.value ?? Buffer.alloc(0), { topic: spec.topic });
          const value = toPlainJson(spec.schema, d.value);
          const line = opts.meta ? { partition: r.partition, offset: r.offset, key: r.key?.toString() ?? null, schema_id: d.schemaId, value } : value;
          process.stdout.write(`${JSON.stringify(line)}\n`);
        } catch (err) {
          bad++;
          process.stderr.write(`${spec.topic}/${r.partition}@${r.offset}: cannot decode: ${errorMessage(err)}\n`);
        }
      });
      await clients.close();
      process.stderr.write(`${n} event(s) read from ${spec.topic}${bad ? `, ${bad} could not be decoded` : ''}\n`);
    });
}
