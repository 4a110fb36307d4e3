/** The analysts' SQL is read-only: reading statements pass (comments and a trailing ";" trimmed), anything else is `not_read_only`. */
import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { WarehouseError } from './errors.ts';
import { assertReadOnly } from './query.ts';

describe('assertReadOnly', () => {
  test('reading statements pass, trimmed of leading comments and a trailing semicolon', () => {
    assert.equal(assertReadOnly('-- sizes\nSELECT count() FROM profiles;'), 'SELECT count() FROM profiles');
    assert.equal(assertReadOnly('/* c */ WITH x AS (SELECT 1) SELECT * FROM x'), 'WITH x AS (SELECT 1) SELECT * FROM x');
    for (const q of ['show tables', 'DESCRIBE purchases', 'EXPLAIN SELECT 1', 'EXISTS TABLE purchases', '(SELECT 1)']) assert.equal(assertReadOnly(q), q);
  });

  test('writes, several statements and file or network table functions are not_read_only', () => {
    const refused: [string, RegExp][] = [
      ['INSERT INTO purchases VALUES (1)', /only SELECT, WITH/],
      ['DROP TABLE purchases', /only SELECT, WITH/],
      ['/* SELECT */ ALTER TABLE purchases DELETE WHERE 1', /only SELECT, WITH/],
      ['SELECT 1; DROP TABLE purchases', /one statement at a time/],
      ["SELECT * FROM purchases INTO OUTFILE '/tmp/x'", /INTO OUTFILE/],
      ["SELECT * FROM url('http://example.com/x', CSV)", /table functions/],
      ["SELECT * FROM file('/etc/passwd')", /table functions/],
    ];
    for (const [sql, message] of refused) {
      assert.throws(
        () => assertReadOnly(sql),
        (err: unknown) => {
          assert.ok(err instanceof WarehouseError, sql);
          assert.equal(err.code, 'not_read_only', sql);
          assert.equal(err.retriable, false, sql);
          assert.match(err.message, message, sql);
          return true;
        },
      );
    }
  });
});
