/** The warehouse refuses to start on bad settings and on a failing migration, naming what is wrong. */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, test } from 'vitest';
import { REPO_ROOT } from '@profile-stream/consumer-kit';
import { testEnv, type TestEnv } from './support/index.ts';
import { startService } from './support/pipeline.ts';
import { exitCode } from './support/warehouse.ts';

let env: TestEnv;
beforeAll(async () => {
  env = await testEnv('wh-start');
});

function warehouseEnv(group: string, over: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...env.childEnv,
    WAREHOUSE_GROUP_ID: `${env.prefix}${group}`,
    WAREHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), 'ps-wh-start-')),
    WAREHOUSE_BATCH_ROWS: '700',
    WAREHOUSE_BATCH_MS: '200',
    WAREHOUSE_CHUNK_SIZE: '300',
    PII_HASH_KEY: 'warehouse-test-key-0123456789',
    ...over,
  };
}

test('bad config stops start-up naming the variable', async () => {
  const s = startService(warehouseEnv('bad', { WAREHOUSE_BATCH_ROWS: 'lots', WAREHOUSE_OPS_PORT: '0' }), 'warehouse');
  assert.equal(await exitCode(s.child), 1);
  assert.match(s.stderr(), /config_invalid: WAREHOUSE_BATCH_ROWS: expected an integer/);
});

test('a failing migration stops start-up naming the file and the ClickHouse error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ps-wh-migrations-'));
  cpSync(resolve(REPO_ROOT, 'infra/clickhouse'), dir, { recursive: true });
  writeFileSync(join(dir, '0099_broken.sql'), 'ALTER TABLE {{db}}.purchases ADD COLUMN oops NoSuchType;\n');
  const s = startService(
    warehouseEnv('mig', { WAREHOUSE_MIGRATIONS_DIR: dir, WAREHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), 'ps-wh-mig-')), WAREHOUSE_OPS_PORT: '0' }),
    'warehouse',
  );
  assert.equal(await exitCode(s.child), 1);
  assert.match(s.stderr(), /migration_failed: .*0099_broken\.sql: .*NoSuchType/);
});
