/** SQL literals for values the warehouse puts into statements itself (ids, identifiers): quoted and escaped. */
export const sqlString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** A comma-separated list of distinct string literals (for IN (...)). */
export const sqlList = (values: Iterable<string>): string => [...new Set(values)].map(sqlString).join(',');
