/**
 * `import purchases <file>`: historical orders from a CSV or whitespace-separated file (plain or .gz) into the
 * purchases topic, one Purchase per order with its lines as items. The mapping, presets and cleaning rules are in
 * import/*.ts and the README ("Importing order history"). Unusable rows are reported by line with a reason (stderr
 * count, --rejects as JSON lines); exit code 0 unless the import itself fails (a wrong mapping fails on line 1).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { basename } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { IANAZone } from 'luxon';
import { eventKey, ProfileStreamError } from '@profile-stream/contracts';
import { type Clients, openClients } from '../clients.ts';
import { cliContext } from '../context.ts';
import { checkColumnMap, type ImportSettings, PRESETS, type PresetName, parseColumnMap } from '../import/mapping.ts';
import { type MappingSettings, readMappingFile } from '../import/mapping-file.ts';
import { openRecords } from '../import/read.ts';
import { type ImportCounts, runImport } from '../import/run.ts';
import { progressBar } from '../progress.ts';
import { Sender } from '../sender.ts';

export interface ImportOptions extends MappingSettings {
  /** A YAML file of the MappingSettings (import/mapping-file.ts). */
  mapping?: string;
  map?: string;
  limit?: string;
  rejects?: string;
  dryRun?: boolean;
}

export interface ImportReport extends ImportCounts {
  file: string;
  sent: number;
  seconds: number;
  rowsPerSecond: number;
}

const invalid = (message: string) => new ProfileStreamError('invalid_options', message);

function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw invalid(`${option}: expected ${allowed.join(' or ')} (got ${JSON.stringify(value)})`);
  return value as T;
}

/**
 * The preset (if any), the --mapping file over it, the command line's options over both; --map entries replace the
 * file's and the preset's one by one.
 */
export function importSettings(file: string, options: ImportOptions): ImportSettings {
  const { map: fileMap, header: fileHeader, ...fromFile } = options.mapping === undefined ? {} : readMappingFile(options.mapping);
  // The command line over the file; `header` is true unless --no-header (commander's default), so only false overrides.
  const given = Object.fromEntries(Object.entries(options).filter(([k, v]) => v !== undefined && k !== 'header'));
  const o: ImportOptions = { ...fromFile, ...given, header: options.header === false ? false : fileHeader };
  const preset = o.preset === undefined ? undefined : PRESETS[oneOf('--preset', o.preset, Object.keys(PRESETS) as PresetName[])];
  const map = { ...preset?.map, ...fileMap, ...(o.map === undefined ? {} : parseColumnMap(o.map)) };
  checkColumnMap(map);
  const timezone = o.timezone ?? preset?.timezone ?? 'UTC';
  if (!IANAZone.isValidZone(timezone)) throw invalid(`--timezone: unknown time zone ${JSON.stringify(timezone)}`);
  const currency = (o.currency ?? preset?.currency ?? '').toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) throw invalid(`--currency: expected an ISO 4217 code such as GBP (got ${JSON.stringify(o.currency ?? '')})`);
  return {
    source: o.source ?? preset?.source ?? basename(file).replace(/\.(csv|txt|tsv)?(\.gz)?$/i, ''),
    map,
    format: oneOf('--format', o.format ?? preset?.format ?? 'csv', ['csv', 'whitespace'] as const),
    header: o.header ?? preset?.header ?? true,
    dateFormat: o.dateFormat ?? preset?.dateFormat ?? 'iso',
    timezone,
    currency,
    userPrefix: o.userPrefix ?? preset?.userPrefix ?? '',
    cancelPrefix: o.cancelPrefix ?? preset?.cancelPrefix ?? '',
    zeroPrice: oneOf('--zero-price', o.zeroPrice ?? preset?.zeroPrice ?? 'keep', ['keep', 'reject'] as const),
  };
}

async function write(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await new Promise<void>((r) => out.once('drain', () => r()));
}

/** `io.clients`: send through these (a bench's prefixed topics) instead of the CLI context's; the caller closes them. */
export async function importPurchases(file: string, o: ImportOptions, io: { progress?: boolean; clients?: Clients } = {}): Promise<ImportReport> {
  const s = importSettings(file, o);
  const limit = o.limit === undefined ? undefined : Number(o.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw invalid(`--limit: expected a positive integer (got ${JSON.stringify(o.limit)})`);
  const source = await openRecords(file, s.format);
  const own = o.dryRun || io.clients ? undefined : openClients(cliContext('import'));
  const clients = o.dryRun ? undefined : (io.clients ?? own);
  const rejects = o.rejects ? createWriteStream(o.rejects) : undefined;
  const t0 = performance.now();
  const bar = progressBar(`import ${basename(file)} (bytes)`, io.progress === false ? 0 : source.size);
  try {
    const spec = clients?.topic('purchases');
    const sender = clients ? new Sender(await clients.producer()) : undefined;
    let n = 0;
    const counts = await runImport(
      source.records,
      s,
      { file, limit },
      {
        async onOrder(g) {
          if (++n % 1000 === 0) bar.update(source.bytesRead());
          if (!clients || !spec || !sender) return;
          const value = g.purchase as unknown as Record<string, unknown>;
          await sender.add(spec.topic, { key: eventKey(spec.id, value), value: await clients.registry.encode(spec.topic, value) });
        },
        async onReject(r) {
          if (rejects) await write(rejects, `${JSON.stringify(r)}\n`);
        },
      },
    );
    await sender?.flush();
    bar.update(source.size);
    const seconds = (performance.now() - t0) / 1000;
    return { file, ...counts, sent: sender?.sent ?? 0, seconds, rowsPerSecond: Math.round(counts.rows / seconds) };
  } finally {
    bar.stop();
    if (rejects) {
      rejects.end();
      await finished(rejects);
    }
    await own?.close();
  }
}

function summary(r: ImportReport): string {
  const rejected = Object.entries(r.rejected).sort((a, b) => b[1] - a[1]);
  const total = rejected.reduce((t, [, n]) => t + n, 0);
  const statuses = Object.entries(r.byStatus).map(([k, n]) => `${n} ${k}`);
  return [
    `read ${r.rows} row(s) of ${r.file} in ${r.seconds.toFixed(1)} s (${r.rowsPerSecond} rows/s)`,
    `${r.orders} order event(s) (${statuses.join(', ') || 'none'}), ${r.sent} sent to purchases`,
    `rejected ${total} row(s)${rejected.map(([reason, n]) => `\n  ${reason}: ${n}`).join('')}`,
    '',
  ].join('\n');
}

export function registerImport(program: Command): void {
  const cmd = program.command('import').description('import history from files into the topics');
  cmd
    .command('purchases')
    .description('historical orders (CSV or whitespace-separated, plain or .gz) into the purchases topic, one event per order')
    .argument('<file>', 'a .csv, .txt or .gz file')
    .option('--preset <name>', 'ready-made settings: online-retail or cdnow (see the README)')
    .option('--mapping <file.yaml>', 'the settings in a YAML file: preset, map (field: column), format, header, date_format, timezone, currency, ... (README)')
    .option('--map <pairs>', 'field=column pairs: customer, order, at, sku, category, quantity, price (unit), amount (line total)')
    .option('--format <format>', 'csv (RFC 4180) or whitespace (columns separated by spaces)')
    .option('--no-header', 'the first line is data: columns are named 1, 2, 3, ...')
    .option('--date-format <format>', 'luxon format of the date column (M/d/yyyy H:mm, yyyyMMdd, ...) or iso')
    .option('--timezone <zone>', "IANA time zone of dates without an offset (default UTC, or the preset's)")
    .option('--currency <code>', "ISO 4217 currency of the amounts (default the preset's)")
    .option('--user-prefix <prefix>', 'prepended to the customer id to make user_id (presets: retail:, cdnow:)')
    .option('--cancel-prefix <prefix>', 'order ids starting with it are cancellations (online-retail: C)')
    .option('--zero-price <rule>', 'keep or reject lines priced 0')
    .option('--source <name>', 'names the source in event ids (default the preset, else the file name)')
    .option('--limit <rows>', 'read only the first <rows> data rows')
    .option('--rejects <path>', 'write every rejected row as a JSON line (line, reason, message, fields)')
    .option('--dry-run', 'read, map and group, but send nothing')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: ImportOptions & { json?: boolean }) => {
      const r = await importPurchases(file, opts);
      process.stdout.write(opts.json ? `${JSON.stringify(r)}\n` : summary(r));
    });
}
