/** Warehouse settings: defaults follow the shared ones, and production refuses the development PII key. */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'vitest';
import { ConfigError, OPS_PORTS, REPO_ROOT } from '@profile-stream/consumer-kit';
import { DEVELOPMENT_PII_KEY, loadWarehouseConfig } from './config.ts';

test("defaults: its ops port, chDB under PS_DATA_DIR, the repository's migrations, the development PII key", () => {
  const c = loadWarehouseConfig({ PS_DATA_DIR: '/tmp/ps-data' });
  assert.equal(c.opsPort, OPS_PORTS.warehouse);
  assert.equal(c.dataDir, '/tmp/ps-data/chdb');
  assert.equal(c.migrationsDir, resolve(REPO_ROOT, 'infra/clickhouse'));
  assert.equal(c.piiKey, DEVELOPMENT_PII_KEY);
  assert.equal(c.piiKeyIsDefault, true);
  assert.equal(c.defaultRegion, 'GB');
});

test('NODE_ENV=production with hashed PII needs PII_HASH_KEY', () => {
  assert.throws(
    () => loadWarehouseConfig({ NODE_ENV: 'production' }),
    (err: unknown) => err instanceof ConfigError && err.variable === 'PII_HASH_KEY',
  );
  assert.equal(loadWarehouseConfig({ NODE_ENV: 'production', WAREHOUSE_PII: 'plain' }).pii, 'plain');
  const c = loadWarehouseConfig({ NODE_ENV: 'production', PII_HASH_KEY: 'a-secret-of-16-chars' });
  assert.equal(c.piiKey, 'a-secret-of-16-chars');
  assert.equal(c.piiKeyIsDefault, false);
});

test('a bad value names the variable', () => {
  for (const [name, value] of [
    ['WAREHOUSE_BATCH_ROWS', 'lots'],
    ['WAREHOUSE_OPS_PORT', '70000'],
    ['WAREHOUSE_PII', 'clear'],
    ['PII_HASH_KEY', 'short'],
  ]) {
    assert.throws(
      () => loadWarehouseConfig({ [name!]: value }),
      (err: unknown) => err instanceof ConfigError && err.variable === name,
    );
  }
});
