/**
 * One source of truth for configuration: the README's tables are the declarations (shared, every service's, the
 * CLI's), each loader reads only variables it declares, and nothing else in the code reads process.env.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, test } from 'vitest';
import { defaultValue, loadSharedConfig, parseSettings, REPO_ROOT, type Env } from '@profile-stream/consumer-kit';
import { loadProfileApiConfig } from '@profile-stream/api/config';
import { loadSegmenterConfig } from '@profile-stream/segmenter';
import { loadStitcherConfig } from '@profile-stream/stitcher';
import { loadWarehouseConfig } from '@profile-stream/warehouse';
import { CLI_SETTINGS } from './context.ts';
import { BEGIN, END, SETTINGS_GROUPS, withSettingsTables } from './settings-table.ts';

const declared = SETTINGS_GROUPS.flatMap((g) => Object.keys(g.settings));

describe('the README configuration tables', () => {
  const readme = readFileSync(resolve(REPO_ROOT, 'README.md'), 'utf8');

  test('are what the declarations generate (run `npm run docs:config` after changing a setting)', () => {
    assert.equal(readme, withSettingsTables(readme));
  });

  test('list every declared variable once, and nothing else, between the markers', () => {
    const section = readme.slice(readme.indexOf(BEGIN), readme.indexOf(END));
    const listed = [...section.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(listed, declared);
  });
});

describe('the declarations', () => {
  test('no variable is declared twice', () => {
    const seen = new Set<string>();
    for (const name of declared) {
      assert.ok(!seen.has(name), `${name} is declared in two groups`);
      seen.add(name);
    }
  });

  test("a default is the schema's own; a documented one only where the loader computes it", () => {
    for (const g of SETTINGS_GROUPS) {
      for (const [name, s] of Object.entries(g.settings)) {
        assert.ok(!(defaultValue(s) !== undefined && s.shown !== undefined), `${name}: both a schema default and a documented one`);
        assert.ok(s.doc.length > 0 && !s.doc.includes('\n'), `${name}: one line of description`);
      }
    }
  });
});

describe('the loaders', () => {
  /** An env that records which variables are read. */
  function recording(values: Env = {}): { env: Env; read: Set<string> } {
    const read = new Set<string>();
    const env = new Proxy(values, {
      get(target, key) {
        if (typeof key === 'string') read.add(key);
        return Reflect.get(target, key);
      },
    });
    return { env, read };
  }

  const loaders: [string, (e: Env) => unknown][] = [
    ['stitcher', (e) => loadStitcherConfig('purchases', e)],
    ['segmenter', (e) => loadSegmenterConfig(e)],
    ['warehouse', (e) => loadWarehouseConfig(e)],
    ['profile-api', (e) => loadProfileApiConfig(e)],
    ['cli', (e) => [loadSharedConfig(e), parseSettings(CLI_SETTINGS, e)]],
  ];

  test('read only declared variables', () => {
    for (const [name, load] of loaders) {
      const r = recording();
      load(r.env);
      const undeclared = [...r.read].filter((v) => !declared.includes(v));
      assert.deepEqual(undeclared, [], `${name} reads undeclared variables`);
      assert.ok(r.read.has('LOG_LEVEL') && r.read.has('KAFKA_BROKERS'), `${name} reads the shared settings`);
    }
  });

  test('take every setting from the env they are given (no process.env fallback)', () => {
    const e = { REDIS_PREFIX: 'x:', STITCHER_CHUNK_SIZE: '7', SEGMENTER_SHARDS: '3', WAREHOUSE_BATCH_ROWS: '9', TOPIC_PURCHASES: 'p2' };
    const s = loadStitcherConfig('purchases', e);
    assert.equal(s.redisPrefix, 'x:');
    assert.equal(s.chunkSize, 7);
    assert.equal(s.topics.purchases.topic, 'p2');
    assert.equal(loadSegmenterConfig(e).shards, 3);
    assert.equal(loadWarehouseConfig(e).batchRows, 9);
  });
});

describe('process.env', () => {
  /**
   * Where reading it is the point: a service's main and the CLI's context hand it to the loaders; `bench segments
   * --floor`'s stand-in service is a process main of the same kind.
   */
  const ENTRY_POINTS = [
    /^services\/[^/]+\/src\/main\.ts$/,
    /^packages\/cli\/src\/context\.ts$/,
    /^infra\/src\/proc\.ts$/,
    /^packages\/cli\/src\/bench\/floor-service\.ts$/,
  ];

  function sources(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
      const p = join(dir, d.name);
      if (d.isDirectory()) return d.name === 'node_modules' || d.name === 'dist' ? [] : sources(p);
      return d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') ? [p] : [];
    });
  }

  test("is read only at the entry points (services' main.ts, the CLI's context; infra passes it to the stack's processes)", () => {
    const files = ['packages', 'services', 'infra/src'].flatMap((d) => sources(resolve(REPO_ROOT, d)));
    assert.ok(files.length > 50);
    const offenders = files
      .map((f) => relative(REPO_ROOT, f))
      .filter((f) => !f.includes('/testing/') && !ENTRY_POINTS.some((re) => re.test(f)))
      .filter((f) =>
        readFileSync(resolve(REPO_ROOT, f), 'utf8')
          .split('\n')
          .some((l) => /process\.env\b/.test(l) && !/^\s*(\/?\*|\/\/)/.test(l)),
      );
    assert.deepEqual(offenders, []);
  });
});
