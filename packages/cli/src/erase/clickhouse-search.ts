/**
 * `erase --verify` in ClickHouse: every table of the warehouse database (views are read through their tables), every
 * column of a string type (String, FixedString, LowCardinality/Nullable of them, and arrays of them) searched for
 * every needle as a case-insensitive substring. One query per table, with a count per column and needle.
 */
import type { AnalystClient } from '@profile-stream/warehouse';
import { judge, type Finding, type Needle, type Needles } from './matchers.ts';

export interface ClickHouseSearch {
  tables: number;
  columns: number;
  findings: Finding[];
}

/** `string` for a column to search as text, `array` for an array of strings, undefined for the rest. */
export function stringColumnKind(type: string): 'string' | 'array' | undefined {
  const inner = (t: string): string => {
    const m = /^(?:LowCardinality|Nullable)\((.*)\)$/.exec(t);
    return m ? inner(m[1]!) : t;
  };
  const isText = (t: string) => /^(String|FixedString\(\d+\))$/.test(inner(t));
  if (isText(type)) return 'string';
  const arr = /^Array\((.*)\)$/.exec(type);
  return arr && isText(arr[1]!) ? 'array' : undefined;
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const ident = (s: string) => `\`${s.replace(/`/g, '``')}\``;

/** The count expression of one column for a set of needle texts. */
export function columnCondition(column: string, kind: 'string' | 'array', texts: string[]): string {
  const list = `[${texts.map(quote).join(', ')}]`;
  const c = ident(column);
  return kind === 'string'
    ? `multiSearchAnyCaseInsensitive(toString(ifNull(${c}, '')), ${list})`
    : `arrayExists(x -> multiSearchAnyCaseInsensitive(toString(ifNull(x, '')), ${list}), ${c})`;
}

/** The database is quoted into the SQL: the warehouse's ops port, which `sql` also uses, takes no query parameters. */
export async function searchClickHouse(
  client: AnalystClient['client'],
  o: { database: string; needles: Needles; redisPrefix: string },
): Promise<ClickHouseSearch> {
  const rs = await client.query({
    query: `SELECT c.table AS table, c.name AS name, c.type AS type FROM system.columns AS c
            INNER JOIN system.tables AS t ON t.database = c.database AND t.name = c.table
            WHERE c.database = ${quote(o.database)} AND t.engine NOT IN ('View', 'MaterializedView') ORDER BY c.table, c.position`,
    format: 'JSONEachRow',
  });
  const byTable = new Map<string, { name: string; kind: 'string' | 'array' }[]>();
  for (const r of await rs.json<{ table: string; name: string; type: string }>()) {
    const kind = stringColumnKind(r.type);
    if (!kind) continue;
    byTable.set(r.table, [...(byTable.get(r.table) ?? []), { name: r.name, kind }]);
  }
  const out: ClickHouseSearch = { tables: byTable.size, columns: 0, findings: [] };
  for (const [table, columns] of byTable) {
    out.columns += columns.length;
    if (o.needles.list.length === 0) continue;
    const exprs = columns.flatMap((col) =>
      o.needles.list.map((needle) => ({ col: col.name, needle, sql: `countIf(${columnCondition(col.name, col.kind, [needle.text])})` })),
    );
    const q = await client.query({
      query: `SELECT ${exprs.map((e, i) => `${e.sql} AS c${i}`).join(', ')} FROM ${ident(o.database)}.${ident(table)}`,
      format: 'JSONEachRow',
    });
    const [row] = await q.json<Record<string, string | number>>();
    // rows per column: the most any one needle matched (a row holding two needles counts once)
    const hits = new Map<string, { count: number; needles: Needle[] }>();
    exprs.forEach((e, i) => {
      const n = Number(row?.[`c${i}`] ?? 0);
      if (n === 0) return;
      const h = hits.get(e.col) ?? { count: 0, needles: [] };
      h.count = Math.max(h.count, n);
      h.needles.push(e.needle);
      hits.set(e.col, h);
    });
    for (const [col, h] of hits) {
      out.findings.push(
        judge({ store: 'clickhouse', where: `${table}.${col}`, place: table, count: h.count, needles: h.needles }, { redisPrefix: o.redisPrefix }),
      );
    }
  }
  return out;
}
