/**
 * Read-only SQL for analysts. In embedded mode only the warehouse process may open the chDB directory, so it
 * serves queries on its ops port with a subset of ClickHouse's HTTP interface (`/ping`; `/` with the query in
 * `?query=` and/or the body; the FORMAT clause or `default_format`, TabSeparated otherwise), which is what
 * `profile-stream sql` and ordinary ClickHouse HTTP clients use. Only reading statements are accepted.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClickHouseClient } from '@profile-stream/clickhouse';
import { WarehouseError } from './errors.ts';

const READING = /^(SELECT|WITH|SHOW|DESCRIBE|DESC|EXPLAIN|EXISTS)\b/i;
const SIDE_EFFECTS = /\bINTO\s+OUTFILE\b|\b(file|url|s3|s3Cluster|hdfs|remote|remoteSecure|mysql|postgresql|executable|input|azureBlobStorage)\s*\(/i;

/** The statement if it only reads; else a `not_read_only` error. */
export function assertReadOnly(sql: string): string {
  const body = sql
    .replace(/^(\s*(--[^\n]*\n|\/\*[\s\S]*?\*\/))*/, '')
    .trim()
    .replace(/;\s*$/, '');
  const first = body.replace(/^\(+\s*/, '');
  if (!READING.test(first)) throw new WarehouseError('not_read_only', 'only SELECT, WITH, SHOW, DESCRIBE, EXPLAIN and EXISTS statements are accepted');
  if (body.includes(';')) throw new WarehouseError('not_read_only', 'one statement at a time (no ";" inside the query)');
  if (SIDE_EFFECTS.test(body)) throw new WarehouseError('not_read_only', 'INTO OUTFILE and file/network table functions are not accepted');
  return body;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Handles `/ping` and `/` (ClickHouse HTTP, read-only); returns false for other paths. */
export function clickHouseHttp(client: ClickHouseClient): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/ping') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8' });
      res.end('Ok.\n');
      return true;
    }
    if (url.pathname !== '/' && url.pathname !== '/query') return false;
    const sql = [url.searchParams.get('query') ?? '', req.method === 'POST' ? await readBody(req) : ''].filter(Boolean).join('\n');
    if (!sql.trim()) {
      res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8' });
      res.end('Ok.\n');
      return true;
    }
    try {
      const query = assertReadOnly(sql);
      const result = await client.exec({
        query,
        clickhouse_settings: { default_format: (url.searchParams.get('default_format') ?? 'TabSeparated') as 'TabSeparated' },
      });
      const chunks: Buffer[] = [];
      for await (const c of result.stream) chunks.push(Buffer.from(c as Buffer));
      res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8', 'x-clickhouse-format': 'auto' });
      res.end(Buffer.concat(chunks));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const readOnly = err instanceof WarehouseError;
      // The shape ClickHouse clients parse: "Code: N. DB::Exception: message. (TYPE)"
      res.writeHead(readOnly ? 403 : 500, { 'content-type': 'text/plain; charset=UTF-8', 'x-clickhouse-exception-code': readOnly ? '164' : '1002' });
      res.end(`Code: ${readOnly ? 164 : 1002}. DB::Exception: ${message}. (${readOnly ? 'READONLY' : 'UNKNOWN_EXCEPTION'})\n`);
    }
    return true;
  };
}
