// Definition format: every way a file can be wrong gives file, path and reason; the loader reports all at once.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { parseDefinition } from './definition.ts';
import { parseDuration } from './duration.ts';
import { SegmentDefinitionError, isSegmentDefinitionError } from './errors.ts';
import { loadDefinitions } from './load.ts';

const HEAD = 'id: s\nversion: 1\nname: S\ndescription: d\n';

function refused(text: string, path: string, pattern: RegExp): void {
  assert.throws(
    () => parseDefinition(HEAD + text, 'f.yaml'),
    (err: unknown) => {
      assert.ok(isSegmentDefinitionError(err));
      assert.equal(err.code, 'invalid_definition');
      assert.equal(err.retriable, false);
      assert.equal(err.file, 'f.yaml');
      const issue = err.issues.find((i) => i.path === path);
      assert.ok(issue, `no issue at ${path}: ${err.message}`);
      assert.match(issue.message, pattern);
      return true;
    },
  );
}

describe('parseDefinition', () => {
  it('compiles the grammar', () => {
    const d = parseDefinition(
      `${HEAD}requires_consent: email\ntraits: [support.last_csat]\nparams: { n: 4 }\ncondition:
  all:
    - { count: purchases, within: 365d, gte: $n }
    - { sum: net_minor, currency: EUR, ending: last_purchase, within: 30d, gt: 0 }
    - not: { field: demographic.country, in: [GB, DE] }
    - any: [{ field: consent.sms.granted, eq: true }, { field: activity.last_seen_at, within_last: 1h }]
    - { field: transactions.orders_count, gte: 1, lte: 3 }
    - { rfm: { r: 5, f: [2, 4] } }
`,
      'f.yaml',
    );
    assert.equal(d.requires_consent, 'email');
    assert.equal(
      parseDefinition(`${HEAD}requires_consent: marketing_email\ncondition: { field: identity.emails, exists: true }\n`, 'x.yaml').requires_consent,
      'email',
      'the DESIGN name is an alias',
    );
    assert.deepEqual(d.params, { n: 4 });
    assert.equal(d.condition.kind, 'all');
    const of = (d.condition as { of: readonly { kind: string }[] }).of;
    assert.deepEqual(
      of.map((c) => c.kind),
      ['aggregate', 'aggregate', 'not', 'any', 'all', 'rfm'],
    );
    assert.deepEqual(of[0], { kind: 'aggregate', fn: 'count', of: 'purchases', currency: null, within: 365 * 86_400_000, ending: 'now', bounds: { gte: 4 } });
  });

  it('names file, path and reason', () => {
    refused('condition: { field: transactions.lifetime_value, gte: 1 }', 'condition.field', /unknown profile field "transactions.lifetime_value"/);
    refused('condition: { all: [{ field: activity.last_seen_at, within_last: 30 days }] }', 'condition.all.0.within_last', /expected a duration/);
    refused('condition: { field: transactions.orders_count, within_last: 1h }', 'condition.within_last', /does not apply to transactions.orders_count/);
    refused('condition: { field: transactions.orders_count, eq: "1" }', 'condition.eq', /expected number/);
    refused('condition: { field: consent.fax.granted, eq: true }', 'condition.field', /unknown profile field/);
    refused('condition: { field: transactions.revenue_minor.gbp, gt: 1 }', 'condition.field', /unknown profile field/);
    refused('condition: { count: purchases, within: 30d }', 'condition', /at least one of eq, gt, gte, lt, lte/);
    refused('condition: { sum: net_minor, gte: 1 }', 'condition.currency', /.+/);
    refused('condition: { count: purchases, gte: $missing }', 'condition.gte', /unknown parameter \$missing/);
    refused('condition: { frobnicate: 1 }', 'condition', /expected one of all, any, not, field, count, sum, rfm/);
    refused('condition: { all: [] }', 'condition.all', /non-empty/);
    refused('condition: { rfm: { r: 6 } }', 'condition.rfm.r', /.+/);
    refused(
      'condition: { rfm: { r: 1 }, model: { recency: [1d, 2d, 3d, 3d], frequency: [1, 2, 3, 4], monetary: {} } }',
      'condition.model.recency',
      /ascending/,
    );
    refused('traits: [identity.secret]\ncondition: { field: support.open_tickets, gte: 1 }', 'traits.0', /unknown profile field/);
    refused('requires_consent: marketing\ncondition: { field: support.open_tickets, gte: 1 }', 'requires_consent', /.+/);
    refused('extra: 1\ncondition: { field: support.open_tickets, gte: 1 }', '', /extra/);
  });

  it('reports a YAML syntax error with its line', () => {
    assert.throws(
      () => parseDefinition('id: [unclosed\n', 'bad.yaml'),
      (err: unknown) => err instanceof SegmentDefinitionError && err.file === 'bad.yaml' && /line \d+/.test(err.path) && /not valid YAML/.test(err.message),
    );
  });

  it('durations', () => {
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('365d'), 365 * 86_400_000);
    for (const bad of ['0d', '1y', '1.5h', 'd', '', ' 1h']) assert.equal(parseDuration(bad), undefined, bad);
  });
});

describe('loadDefinitions', () => {
  it('validates every file at once, refuses duplicate ids and unknown overrides, sorts by id', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'segments-'));
    try {
      const def = (id: string) => `id: ${id}\nversion: 1\nname: N\ndescription: d\ncondition: { field: support.open_tickets, gte: 1 }\n`;
      await writeFile(join(dir, 'b.yaml'), def('bee'));
      await writeFile(join(dir, 'a.yaml'), def('zed'));
      await writeFile(join(dir, 'notes.txt'), 'ignored');
      assert.deepEqual(
        (await loadDefinitions(dir)).map((d) => d.id),
        ['bee', 'zed'],
      );
      await assert.rejects(loadDefinitions(dir, { params: { nope: { x: 1 } } }), /unknown segment "nope"/);
      await assert.rejects(loadDefinitions(dir, { params: { bee: { x: 1 } } }), /undeclared parameter/);
      await writeFile(join(dir, 'c.yaml'), def('bee'));
      await writeFile(join(dir, 'd.yaml'), def('dee').replace('support.open_tickets', 'support.nope'));
      await assert.rejects(loadDefinitions(dir), (err: unknown) => {
        assert.ok(isSegmentDefinitionError(err));
        assert.deepEqual(
          err.issues.map((i) => [i.file.slice(dir.length + 1), i.path]),
          [
            ['d.yaml', 'condition.field'],
            ['c.yaml', 'id'],
          ],
        );
        assert.match(err.message, /duplicate id "bee"/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
