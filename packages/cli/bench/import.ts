/**
 * Micro-benchmark of `import purchases` without Kafka, on a shared data file (default: the full Online Retail):
 * where the time goes per row — reading (gunzip + CSV parsing), + mapping rows to lines, + grouping into orders.
 * Run: .tools/node/node_modules/node/bin/node packages/cli/bench/import.ts [file] [preset]
 */
import { resolve } from 'node:path';
import { REPO_ROOT } from '@profile-stream/consumer-kit';
import { importSettings } from '../src/commands/import.ts';
import { resolveColumns } from '../src/import/mapping.ts';
import { openRecords } from '../src/import/read.ts';
import { rowReader } from '../src/import/rows.ts';
import { runImport } from '../src/import/run.ts';

const file = process.argv[2] ?? resolve(REPO_ROOT, '../shared/data/online_retail.csv.gz');
const preset = process.argv[3] ?? 'online-retail';
const s = importSettings(file, { preset });

async function timed(label: string, body: () => Promise<number>): Promise<void> {
  const t0 = performance.now();
  const rows = await body();
  const ms = performance.now() - t0;
  process.stdout.write(
    `${label.padEnd(34)} ${rows} rows in ${(ms / 1000).toFixed(2)} s: ${Math.round(rows / (ms / 1000))} rows/s, ${((ms * 1000) / rows).toFixed(2)} µs/row\n`,
  );
}

await timed('read (gunzip + parse)', async () => {
  let n = 0;
  for await (const _ of (await openRecords(file, s.format)).records) n++;
  return n;
});
await timed('read + rows → lines', async () => {
  let n = 0;
  let read: ReturnType<typeof rowReader> | undefined;
  for await (const r of (await openRecords(file, s.format)).records) {
    if (!('fields' in r)) continue;
    if (!read) {
      read = rowReader(s, resolveColumns(s.map, r.fields, s.header, file));
      continue;
    }
    read(r.fields, r.line);
    n++;
  }
  return n;
});
await timed('read + lines + orders (dry run)', async () => {
  const counts = await runImport((await openRecords(file, s.format)).records, s, { file }, { onOrder() {}, onReject() {} });
  return counts.rows;
});
