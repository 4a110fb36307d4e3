/** `dlq list <topic>` shows dead letters with reason and source; `dlq replay <topic>` sends them back. */
import type { Command } from 'commander';
import { readDeadLetter, replayHeaders } from '@profile-stream/consumer-kit';
import { openClients } from '../clients.ts';
import { cliContext } from '../context.ts';
import { readTopic } from '../read-topic.ts';
import { printTable } from '../table.ts';

export const REPLAY_GROUP = 'profile-stream-dlq-replay';

export function registerDlq(program: Command): void {
  const dlq = program.command('dlq').description("dead-letter queues: every consumer's rejected events, replayable");
  dlq
    .command('list')
    .description('list the dead letters of an input topic')
    .argument('<topic>', 'the input topic (its <topic>.dlq is read)')
    .option('--json', 'one JSON object per dead letter')
    .option('-n, --max <n>', 'at most n', (v) => Number.parseInt(v, 10))
    .action(async (topic: string, opts: { json?: boolean; max?: number }) => {
      const clients = openClients(cliContext('dlq'));
      const spec = clients.topic(topic);
      const dlqTopic = spec.dlq ?? `${spec.topic}.dlq`;
      const rows: Record<string, unknown>[] = [];
      await readTopic(clients.kafka, dlqTopic, { ...(opts.max !== undefined ? { max: opts.max } : {}) }, (r) => {
        const dl = readDeadLetter(r.headers);
        const row = {
          dlq_offset: `${r.partition}@${r.offset}`,
          reason: dl?.reason ?? '(no dlq headers)',
          source: dl ? `${dl.sourceTopic}/${dl.sourcePartition}@${dl.sourceOffset}` : '',
          service: dl?.service ?? '',
          time: dl?.time ?? '',
          key: r.key?.toString() ?? null,
          message: dl?.message ?? '',
          bytes: r.value?.length ?? 0,
        };
        if (opts.json) process.stdout.write(`${JSON.stringify(row)}\n`);
        else rows.push({ ...row, message: row.message.length > 80 ? `${row.message.slice(0, 77)}...` : row.message });
      });
      await clients.close();
      if (!opts.json) {
        if (rows.length) printTable(rows);
        process.stdout.write(`${rows.length} dead letter(s) in ${dlqTopic}\n`);
      }
    });
  dlq
    .command('replay')
    .description('send dead letters back to their source topic (after a fix); each is replayed once')
    .argument('<topic>', 'the input topic whose DLQ to replay')
    .option('--reason <code>', 'only dead letters with this reason code')
    .action(async (topic: string, opts: { reason?: string }) => {
      const clients = openClients(cliContext('dlq'));
      const spec = clients.topic(topic);
      const producer = await clients.producer();
      let replayed = 0;
      let skipped = 0;
      await readTopic(
        clients.kafka,
        spec.dlq ?? `${spec.topic}.dlq`,
        { groupId: `${REPLAY_GROUP}.${spec.topic}${opts.reason ? `.${opts.reason}` : ''}` },
        async (r) => {
          const dl = readDeadLetter(r.headers);
          if (!dl || !r.value || (opts.reason && dl.reason !== opts.reason)) {
            skipped++;
            return;
          }
          const headers = Object.fromEntries(Object.entries(replayHeaders(r.headers)).map(([k, v]) => [k, v.toString()]));
          // Sent and acknowledged before the replay group's offset can move past it.
          await producer.send({ topic: dl.sourceTopic, acks: -1, messages: [{ key: r.key, value: r.value, headers }] });
          replayed++;
        },
      );
      await clients.close();
      process.stdout.write(`replayed ${replayed} dead letter(s) to ${spec.topic}${skipped ? `, skipped ${skipped}` : ''}\n`);
    });
}
