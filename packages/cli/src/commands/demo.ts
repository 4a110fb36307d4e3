/**
 * `demo`: the whole path on the embedded defaults. Stack up (fetching what is missing), contracts
 * registered, synthetic customers generated and produced as Avro, a consumer-kit pipeline decoding every
 * input topic (bad records to the DLQ with reasons), then the counts, a decoded event and the dead letters.
 */
import type { Command } from 'commander';
import { resolveTopics, toPlainJson } from '@profile-stream/contracts';
import {
  createKitMetrics, createProducer, decodeMessage, ok, perKey, startConsumer, type KitMessage,
} from '@profile-stream/consumer-kit';
import { createStack, provision, stackUp, waitFor } from '@profile-stream/infra';
import { openClients } from '../clients.ts';
import { cliContext } from '../context.ts';
import { readTopic } from '../read-topic.ts';
import { printTable } from '../table.ts';
import { runGenerate } from './generate.ts';

const say = (s: string) => process.stdout.write(`${s}\n`);

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('stack up, events in, results out: the two-minute tour on the embedded defaults')
    .option('-c, --customers <n>', 'synthetic customers', (v) => Number(v), 2000)
    .option('-d, --days <n>', 'days of activity', (v) => Number(v), 30)
    .option('-s, --seed <n>', 'random seed', (v) => Number(v), 7)
    .action(async (o: { customers: number; days: number; seed: number }) => {
      const ctx = cliContext('demo');
      say('== 1. local stack (Kafka, schema registry, Redis, ClickHouse)');
      const stack = createStack(ctx.conn, ctx.log);
      const up = await stackUp(stack);
      const p = await provision(ctx.conn, resolveTopics({ env: process.env }), ctx.log);
      for (const [name, state] of Object.entries(up.states)) say(`   ${name.padEnd(18)} ${state}`);
      say(`   schemas: ${p.subjects.map((s) => `${s.subject}#${s.id}`).join(', ')}`);
      say(`   ready in ${up.seconds.toFixed(1)} s; \`profile-stream stack status\` shows pids, ports and logs`);

      say(`\n== 2. ${o.customers} synthetic customers over ${o.days} days → Kafka (Avro)`);
      const gen = await runGenerate({ customers: o.customers, days: o.days, seed: o.seed, produce: true });
      say(`   produced ${gen.records} records in ${gen.seconds.toFixed(1)} s (${Math.round(gen.records / gen.seconds)}/s): ${Object.entries(gen.byTopic).map(([t, n]) => `${t} ${n}`).join(', ')}`);
      say(`   of which ${gen.malformed} malformed on purpose (what broken upstream apps send)`);

      say('\n== 3. consumer-kit pipeline: decode every input event, dead-letter what cannot be decoded');
      const clients = openClients(ctx);
      const inputs = Object.values(clients.topics).filter((t) => t.input);
      const metrics = createKitMetrics('demo');
      const producer = createProducer(clients.kafka);
      await producer.connect();
      const sample = new Map<string, Record<string, unknown>>();
      const handled = { ok: 0, dlq: 0 };
      const consumer = await startConsumer({
        kafka: clients.kafka, producer, metrics, logger: ctx.log.child({}, { level: 'error' }),
        service: 'demo', groupId: 'profile-stream-demo', topics: inputs.map((t) => t.topic),
        handler: perKey(async (m: KitMessage) => {
          const d = await decodeMessage<Record<string, unknown>>(clients.registry, m);
          if (!sample.has(m.topic)) sample.set(m.topic, d.value);
          return ok();
        }),
      });
      const admin = clients.kafka.admin();
      await admin.connect();
      const target = new Map<string, Map<number, string>>();
      for (const t of inputs) target.set(t.topic, new Map((await admin.fetchTopicOffsets(t.topic)).map((x) => [x.partition, x.high])));
      await waitFor('the demo consumer to reach the end of every input topic', async () => {
        for (const [topic, highs] of target) {
          const [committed] = await admin.fetchOffsets({ groupId: 'profile-stream-demo', topics: [topic] });
          for (const [partition, high] of highs) {
            const c = committed!.partitions.find((x) => x.partition === partition)?.offset ?? '-1';
            if (high !== '0' && BigInt(c) < BigInt(high)) return false;
          }
        }
        return true;
      }, 300_000);
      await admin.disconnect();
      await consumer.stop();
      await producer.disconnect();
      const counts = await metrics.messages.get();
      for (const v of counts.values) handled[v.labels.outcome === 'dlq' ? 'dlq' : 'ok'] += v.value;
      say(`   this run: ${handled.ok} events decoded, ${handled.dlq} sent to DLQs (group profile-stream-demo)`);

      say('\n== 4. a decoded purchase (`profile-stream consume purchases`)');
      const purchase = sample.get(clients.topic('purchases').topic);
      if (purchase) say(`   ${JSON.stringify(toPlainJson(clients.topic('purchases').schema, purchase))}`);

      say('\n== 5. dead letters by reason (`profile-stream dlq list clickstream`)');
      const rows: Record<string, unknown>[] = [];
      for (const t of inputs) {
        const reasons = new Map<string, number>();
        await readTopic(clients.kafka, t.dlq!, {}, (r) => {
          const reason = r.headers['ps-dlq-reason']?.toString() ?? '?';
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        });
        for (const [reason, n] of reasons) rows.push({ dlq: t.dlq, reason, records: n });
      }
      printTable(rows);
      await clients.close();
      say('\nNext: `profile-stream consume clickstream -n 5`, `profile-stream dlq list purchases`, `profile-stream stack status`.');
    });
}
