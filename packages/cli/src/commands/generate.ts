/**
 * `generate`: realistic synthetic customers and their events (seeded, reproducible), written as JSON
 * lines per topic (plus truth.json, the ground truth) or produced straight to Kafka at a target rate.
 * Malformed records are produced as the raw bytes a broken upstream app would send, so they reach the DLQ.
 */
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Command } from 'commander';
import { eventKey, ProfileStreamError, type TopicId } from '@profile-stream/contracts';
import { createGenerator, groundTruth, toJsonl, type GeneratorOptions, type GroundTruth } from '@profile-stream/generator';
import { openClients } from '../clients.ts';
import { cliContext } from '../context.ts';
import { progressBar } from '../progress.ts';
import { Sender } from '../sender.ts';

export interface GenerateCliOptions {
  customers: number;
  days: number;
  seed: number;
  start?: string;
  junkRate?: number;
  malformedRate?: number;
  duplicateRate?: number;
  loyaltyShare?: number;
  out?: string;
  produce?: boolean;
  rate?: number;
  progress?: boolean;
}

export interface GenerateReport {
  records: number;
  byTopic: Record<string, number>;
  malformed: number;
  seconds: number;
  truth: GroundTruth;
  /** Refs (`email:` / `user:` / `phone:`) of up to five loyalty members with points, those who moved up a tier first: the demo shows one. */
  loyaltyMembers: string[];
}

const DAY = 86_400_000;

export function generatorOptions(o: GenerateCliOptions, now = Date.now()): GeneratorOptions {
  const start = o.start ? Date.parse(o.start) : Math.floor((now - o.days * DAY) / DAY) * DAY;
  if (Number.isNaN(start)) throw new ProfileStreamError('invalid_options', `--start: not a date: ${o.start}`);
  return {
    seed: o.seed,
    customers: o.customers,
    start,
    days: o.days,
    ...(o.junkRate !== undefined ? { junkRate: o.junkRate } : {}),
    ...(o.malformedRate !== undefined ? { malformedRate: o.malformedRate } : {}),
    ...(o.duplicateRate !== undefined ? { duplicateRate: o.duplicateRate } : {}),
    ...(o.loyaltyShare !== undefined ? { loyaltyShare: o.loyaltyShare } : {}),
  };
}

export async function runGenerate(o: GenerateCliOptions): Promise<GenerateReport> {
  if (!o.out && !o.produce) throw new ProfileStreamError('invalid_options', 'say where the events go: --out <dir> and/or --produce');
  const gopts = generatorOptions(o);
  const truth = groundTruth(gopts);
  const t0 = performance.now();
  const files = new Map<string, WriteStream>();
  if (o.out) mkdirSync(o.out, { recursive: true });
  const clients = o.produce ? openClients(cliContext('generate')) : undefined;
  const sender = clients ? new Sender(await clients.producer(), { batchSize: 500, inFlight: 4 }) : undefined;
  const bar = progressBar(o.produce ? 'producing' : 'generating', truth.records, o.progress);
  const byTopic: Record<string, number> = {};
  let records = 0;
  let malformed = 0;
  const members = { promoted: new Set<string>(), earning: new Set<string>() };
  try {
    for (const r of createGenerator(gopts).records) {
      records++;
      byTopic[r.topic] = (byTopic[r.topic] ?? 0) + 1;
      if ('malformed' in r) malformed++;
      else if (r.topic === 'loyalty' && (r.value.type === 'tier_changed' || r.value.type === 'points_earned')) {
        const v = r.value;
        const ref = v.user_id ? `user:${v.user_id}` : v.email ? `email:${v.email}` : `phone:${v.phone}`;
        const set = v.type === 'tier_changed' ? members.promoted : members.earning;
        if (set.size < 5) set.add(ref);
      }
      if (o.out) {
        let f = files.get(r.topic);
        if (!f) {
          f = createWriteStream(join(o.out, `${r.topic}.jsonl`));
          files.set(r.topic, f);
        }
        if (!f.write(`${toJsonl(r)}\n`)) await once(f, 'drain');
      }
      if (clients && sender) {
        const spec = clients.topic(r.topic);
        if ('malformed' in r) await sender.add(spec.topic, { key: r.key, value: Buffer.from(r.raw) });
        else
          await sender.add(spec.topic, {
            key: eventKey(r.topic as TopicId, r.value as unknown as Record<string, unknown>),
            value: await clients.registry.encode(spec.topic, r.value),
          });
      }
      if (o.rate && o.rate > 0) {
        const due = t0 + (records / o.rate) * 1000;
        const wait = due - performance.now();
        if (wait > 5) await new Promise((res) => setTimeout(res, wait));
      }
      if (records % 1000 === 0) bar.update(records);
    }
    await sender?.flush();
  } finally {
    bar.stop();
    await Promise.all([...files.values()].map((f) => new Promise((res) => f.end(res))));
    await clients?.close();
  }
  if (o.out) writeFileSync(join(o.out, 'truth.json'), `${JSON.stringify(truth, null, 1)}\n`);
  return {
    records,
    byTopic,
    malformed,
    seconds: (performance.now() - t0) / 1000,
    truth,
    loyaltyMembers: [...new Set([...members.promoted, ...members.earning])].slice(0, 5),
  };
}

const num = (v: string) => Number(v);

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description(
      'synthetic customers and events: anonymous browsing that later logs in or buys, several devices, e-mail/phone variants, carts, orders and refunds, tickets with CSAT, some junk ids and malformed events',
    )
    .option('-c, --customers <n>', 'customers', num, 1000)
    .option('-d, --days <n>', 'days of activity', num, 30)
    .option('-s, --seed <n>', 'random seed (same seed + start = same events)', num, 42)
    .option('--start <date>', 'first day (ISO date); default: days ago, at midnight UTC')
    .option('--junk-rate <f>', 'fraction of events with junk identifiers', num)
    .option('--malformed-rate <f>', 'fraction of malformed records', num)
    .option('--duplicate-rate <f>', 'fraction of events sent twice (same event_id)', num)
    .option('--loyalty-share <f>', 'fraction of buyers in the loyalty programme (loyalty topic; default 0: none)', num)
    .option('-o, --out <dir>', 'write <dir>/<topic>.jsonl and <dir>/truth.json')
    .option('-p, --produce', 'produce to Kafka (Avro through the registry)')
    .option('-r, --rate <n>', 'target events per second when producing (0 = as fast as possible)', num, 0)
    .option('--progress', 'show a progress bar even when stderr is not a terminal')
    .action(async (o: GenerateCliOptions) => {
      const r = await runGenerate(o);
      const topics = Object.entries(r.byTopic)
        .map(([t, n]) => `${t}=${n}`)
        .join(' ');
      process.stdout.write(
        `${r.records} records (${topics}; ${r.malformed} malformed) for ${r.truth.customers} customers in ${r.seconds.toFixed(1)} s (${Math.round(r.records / r.seconds)}/s)${o.produce ? ', produced to Kafka' : ''}${o.out ? `, written to ${o.out}` : ''}\n`,
      );
    });
}
