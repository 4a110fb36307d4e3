/**
 * The error model: one base class whose retriability comes from ERROR_CODES, one codeOf(); the README's "Error codes"
 * table is ERROR_CODES (same codes, flags, meanings, sources), and every code has a test elsewhere that produces it.
 */
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { ERROR_CODES, type ErrorCode, type ErrorCodeSpec } from './error-codes.ts';
import { codeOf, ContractError, errorMessage, isRetriable, ProfileStreamError } from './errors.ts';

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const THIS_FILE = 'packages/contracts/src/errors.test.ts';
const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

function retriableCell(r: ErrorCodeSpec['retriable']): string {
  return typeof r === 'boolean' ? (r ? 'yes' : 'no') : `${r.when}: yes, else no`;
}

/** The README table as ERROR_CODES says it must be: one row per code, in declaration order. */
function expectedTable(): string[] {
  return [
    '| code | retriable | meaning | where it comes from |',
    '|---|---|---|---|',
    ...CODES.map((code) => {
      const s: ErrorCodeSpec = ERROR_CODES[code];
      return `| \`${code}\` | ${retriableCell(s.retriable)} | ${s.meaning} | ${s.source} |`;
    }),
  ];
}

/** The lines of the first table after the README's "## Error codes" heading. */
function readmeTable(): string[] {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const heading = lines.indexOf('## Error codes');
  assert.notEqual(heading, -1, 'README.md has no "## Error codes" section');
  const start = lines.findIndex((l, i) => i > heading && l.startsWith('|'));
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('|'));
  return lines.slice(start, end === -1 ? undefined : end);
}

describe('ProfileStreamError', () => {
  it('takes its retriable flag from ERROR_CODES; only a code declared `{ when }` lets the thrower decide', () => {
    for (const code of CODES) {
      const declared = ERROR_CODES[code].retriable;
      if (typeof declared === 'boolean') {
        // Asking for the opposite changes nothing: the table is the truth.
        assert.equal(new ProfileStreamError(code, 'x', { retriable: !declared }).retriable, declared, code);
      } else {
        assert.equal(new ProfileStreamError(code, 'x', { retriable: true }).retriable, true, code);
        assert.equal(new ProfileStreamError(code, 'x').retriable, false, code);
      }
    }
  });

  it('keeps the cause and details; a package error is one of them', () => {
    const cause = new Error('socket hang up');
    const e = new ContractError('registry_error', 'GET /schemas/ids/7: socket hang up', { retriable: true, cause, path: 'x' });
    assert.ok(e instanceof ProfileStreamError);
    assert.equal(e.cause, cause);
    assert.equal(e.name, 'ContractError');
    assert.deepEqual(new ProfileStreamError('config_invalid', 'KAFKA_PORT: bad', { details: { variable: 'KAFKA_PORT' } }).details, { variable: 'KAFKA_PORT' });
  });
});

describe('codeOf / isRetriable', () => {
  it('read our errors, Node and library errors with a string code, and nothing else', () => {
    assert.equal(codeOf(new ContractError('unknown_topic', 'x')), 'unknown_topic');
    const socket = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' });
    assert.equal(codeOf(socket), 'ECONNREFUSED');
    assert.equal(codeOf(Object.assign(new Error('x'), { code: 42 })), undefined);
    assert.equal(codeOf(new Error('plain')), undefined);
    assert.equal(codeOf('a string'), undefined);
    assert.equal(codeOf(null), undefined);
    assert.equal(isRetriable(Object.assign(new Error('kafkajs'), { retriable: true })), true);
    assert.equal(isRetriable(socket), false);
    assert.equal(isRetriable(undefined), false);
    assert.equal(errorMessage(new Error('m')), 'm');
    assert.equal(errorMessage(7), '7');
  });
});

describe('ERROR_CODES', () => {
  it('codes are lower-case snake_case', () => {
    for (const code of CODES) assert.match(code, /^[a-z]+(_[a-z]+)*$/);
  });

  it("is the README's error table (regenerate the table from the expected rows printed on failure)", () => {
    const expected = expectedTable();
    assert.deepEqual(readmeTable(), expected, `README.md "## Error codes" should read:\n\n${expected.join('\n')}\n`);
  });

  it('every code is produced and asserted by a test (its quoted name appears in a test file other than this one)', () => {
    const files = globSync(
      ['packages/*/src/**/*.test.ts', 'packages/*/codegen/**/*.test.ts', 'services/*/src/**/*.test.ts', 'infra/src/**/*.test.ts', 'test/**/*.test.ts'],
      { cwd: ROOT, exclude: (f) => f.includes('node_modules') || f.includes('/dist/') },
    ).filter((f) => f !== THIS_FILE);
    const text = files.map((f) => readFileSync(join(ROOT, f), 'utf8')).join('\n');
    const untested = CODES.filter((code) => !new RegExp(`['"\`]${code}['"\`]`).test(text));
    assert.deepEqual(untested, [], `codes without a test: ${untested.join(', ')}`);
  });
});
