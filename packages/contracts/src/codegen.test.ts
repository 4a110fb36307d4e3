import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { DEFAULT_PATHS, generate, staleFiles } from '../codegen/codegen.ts';
import { HEADER, render } from '../codegen/render.ts';

const CODEGEN = resolve(import.meta.dirname, '../codegen/codegen.ts');
const tmp = mkdtempSync(join(tmpdir(), 'contracts-codegen-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function runCodegen(...args: string[]) {
  return spawnSync(process.execPath, [CODEGEN, ...args], { encoding: 'utf8' });
}

describe('codegen', () => {
  it('is deterministic and src/generated is up to date with schemas/', () => {
    const first = generate(DEFAULT_PATHS.schemasDir);
    const second = generate(DEFAULT_PATHS.schemasDir);
    assert.deepEqual([...first.entries()], [...second.entries()]);
    assert.deepEqual(staleFiles(first, DEFAULT_PATHS.outDir), [], 'run npm run codegen');
    for (const content of first.values()) assert.ok(content.startsWith(`${HEADER}\n`));
  });

  it('renders interfaces, enum value lists and the topic table', () => {
    const files = generate(DEFAULT_PATHS.schemasDir);
    const click = files.get('ClickEvent.ts') ?? '';
    assert.match(click, /export interface ClickEvent \{/);
    assert.match(click, / {2}occurred_at: number;/);
    assert.match(click, / {2}device: Device \| null;/);
    assert.match(click, /export const DeviceTypeValues = \['desktop', 'mobile', 'tablet', 'other'\] as const;/);
    assert.match(click, /export const ClickEventSchema = \{/);
    const topics = files.get('topics.ts') ?? '';
    assert.match(topics, /envVar: "TOPIC_SUPPORT_TICKETS"/);
    assert.match(topics, /subject: "segment-membership-changed-value"/);
    assert.match(topics, /dlq: "purchases.dlq"/);
  });

  it('--check exits 0 when in step and 1 naming stale, missing and extra files', () => {
    const schemas = join(tmp, 'schemas');
    const out = join(tmp, 'out');
    cpSync(DEFAULT_PATHS.schemasDir, schemas, { recursive: true });
    assert.equal(runCodegen('--schemas', schemas, '--out', out).status, 0);
    const clean = runCodegen('--check', '--schemas', schemas, '--out', out);
    assert.equal(clean.status, 0, clean.stderr);

    const file = join(schemas, 'Purchase.avsc');
    writeFileSync(file, readFileSync(file, 'utf8').replace('One order line.', 'One line of an order.'));
    writeFileSync(join(out, 'Leftover.ts'), '// old\n');
    rmSync(join(out, 'ProfileErased.ts'));
    const stale = runCodegen('--check', '--schemas', schemas, '--out', out);
    assert.equal(stale.status, 1);
    assert.match(stale.stderr, /Purchase\.ts/);
    assert.match(stale.stderr, /Leftover\.ts/);
    assert.match(stale.stderr, /ProfileErased\.ts/);
    assert.doesNotMatch(stale.stderr, /ClickEvent\.ts/);

    assert.equal(runCodegen('--schemas', schemas, '--out', out).status, 0);
    assert.equal(runCodegen('--check', '--schemas', schemas, '--out', out).status, 0);
  });
});

describe('schema rules', () => {
  const base = () => ({
    type: 'record',
    name: 'Thing',
    namespace: 'dev.profilestream',
    doc: 'A thing.',
    fields: [{ name: 'id', type: 'string', doc: 'Id.' }] as Record<string, unknown>[],
  });
  const topics = [{ topic: 'things', schema: 'Thing.avsc', key: 'id', input: false }];
  const renderOne = (json: unknown) => render([{ file: 'Thing.avsc', json }], topics);

  it('accepts a valid schema', () => {
    assert.ok(renderOne(base()).has('Thing.ts'));
  });

  it('rejects a nullable field without default null', () => {
    const schema = base();
    schema.fields.push({ name: 'note', type: ['null', 'string'], doc: 'Note.' });
    assert.throws(() => renderOne(schema), /Thing\.note: nullable field needs "default": null/);
  });

  it('rejects unions other than ["null", T]', () => {
    const schema = base();
    schema.fields.push({ name: 'v', type: ['string', 'long'], doc: 'V.' });
    assert.throws(() => renderOne(schema), /Thing\.v: unions must be \["null", T\]/);
  });

  it('rejects missing docs, foreign namespaces and invalid Avro', () => {
    const noDoc = base();
    noDoc.fields.push({ name: 'x', type: 'string' });
    assert.throws(() => renderOne(noDoc), /Thing\.x: field needs a doc/);
    assert.throws(() => renderOne({ ...base(), namespace: 'com.other' }), /namespace must be dev\.profilestream/);
    assert.throws(() => renderOne({ ...base(), fields: [{ name: 'x', type: 'nope', doc: 'X.' }] }), /not a valid Avro schema/);
  });

  it('rejects a topic table that does not match the schemas', () => {
    assert.throws(() => render([{ file: 'Thing.avsc', json: base() }], []), /Thing\.avsc is not the value of any topic/);
    assert.throws(() => render([], topics), /no schema file Thing\.avsc/);
  });
});
