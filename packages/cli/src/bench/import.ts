/**
 * `bench predict`'s import rows: `import purchases` of the whole Online Retail file (541,909 rows, preset online-retail:
 * read, parse, clean, group into orders, Avro through the registry, send) against a raw produce of the same rows in the
 * same run: the file gunzipped and split into lines, each line's bytes sent as one message with the same Sender. Both
 * rates count the file's data rows; the raw path sends every row, the import one event per order.
 */
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { ensureTopics, REPO_ROOT } from '@profile-stream/consumer-kit';
import { importPurchases } from '../commands/import.ts';
import { Sender } from '../sender.ts';
import type { Bench } from './harness.ts';
import { rate } from './stats.ts';

export const ONLINE_RETAIL = resolve(REPO_ROOT, '../shared/data/online_retail.csv.gz');

/** Sends each data line of a .csv.gz as one message (no parsing, no encoding); resolves with the rows and the time. */
async function rawProduce(b: Bench, file: string, topic: string): Promise<{ rows: number; ms: number }> {
  const sender = new Sender(await b.clients.producer());
  const t0 = performance.now();
  let rows = -1; // the header line is not a row
  for await (const line of createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Number.POSITIVE_INFINITY })) {
    if (++rows === 0 || line === '') continue;
    await sender.add(topic, { key: null, value: Buffer.from(line) });
  }
  await sender.flush();
  return { rows, ms: performance.now() - t0 };
}

/**
 * One message to each partition, awaited, before the timed sends: on a freshly created topic the broker may still answer
 * NOT_LEADER, and the idempotent producer's retry of one of several in-flight batches then fails out of order.
 */
async function warmUp(b: Bench, topics: string[]): Promise<void> {
  const producer = await b.clients.producer();
  for (const topic of topics)
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: b.conn.partitions }, (_, partition) => ({ partition, value: Buffer.from('warm-up') })),
    });
}

/** The two rows of the table: raw produce first (ratio 1.00), then the import (its rate / the raw rate). */
export async function benchImport(b: Bench, file = ONLINE_RETAIL): Promise<Record<string, unknown>[]> {
  const rawTopic = `${b.prefix}import-raw`;
  await ensureTopics(b.kafka, [{ topic: rawTopic, partitions: b.conn.partitions }]);
  // The bench's purchases topic has no consumer: a warm-up message there is read by nobody and deleted with the topic.
  await warmUp(b, [rawTopic, b.topics.purchases.topic]);
  const raw = await rawProduce(b, file, rawTopic);
  const imported = await importPurchases(file, { preset: 'online-retail' }, { progress: false, clients: b.clients });
  const rawRate = rate(raw.rows, raw.ms);
  const importRate = rate(imported.rows, imported.seconds * 1000);
  return [
    { path: 'raw produce (each line as bytes)', rows: raw.rows, messages: raw.rows, s: (raw.ms / 1000).toFixed(1), 'rows/s': rawRate, ratio: '1.00' },
    {
      path: 'import purchases --preset online-retail',
      rows: imported.rows,
      messages: imported.sent,
      s: imported.seconds.toFixed(1),
      'rows/s': importRate,
      ratio: (importRate / rawRate).toFixed(2),
    },
  ];
}
