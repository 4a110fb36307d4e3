/**
 * `sql "<query>"`: read-only SQL on the warehouse — a ClickHouse server when CLICKHOUSE_URL is set, else the
 * running warehouse (it owns the embedded chDB directory and answers on its ops port), else the directory itself.
 */
import type { Command } from 'commander';
import { ProfileStreamError } from '@profile-stream/consumer-kit';
import { assertReadOnly, loadWarehouseConfig, openAnalystClient } from '@profile-stream/warehouse';
import { cliContext } from '../context.ts';
import { printTable } from '../table.ts';

export function registerSql(program: Command): void {
  program
    .command('sql')
    .description('read-only SQL on the ClickHouse warehouse (table or JSON output)')
    .argument('<query>', 'a SELECT (or WITH/SHOW/DESCRIBE/EXPLAIN) statement; tables of the warehouse database need no prefix')
    .option('-f, --format <format>', 'table | json (one JSON array) | jsonl (one object per line)', 'table')
    .action(async (query: string, opts: { format: string }) => {
      if (!['table', 'json', 'jsonl'].includes(opts.format))
        throw new ProfileStreamError('invalid_options', `--format: expected table, json or jsonl (got ${JSON.stringify(opts.format)})`);
      const sql = assertReadOnly(query);
      const cfg = loadWarehouseConfig(cliContext('sql').env);
      const a = await openAnalystClient({ url: cfg.conn.clickhouse.url, database: cfg.database, opsPort: cfg.opsPort, dataDir: cfg.dataDir });
      try {
        const rs = await a.client.query({ query: sql, format: 'JSONEachRow' });
        const rows = await rs.json<Record<string, unknown>>();
        if (opts.format === 'json') process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else if (opts.format === 'jsonl') for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
        else printTable(rows);
      } finally {
        await a.close();
      }
    });
}
