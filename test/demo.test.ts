/**
 * `profile-stream demo` as a user runs it, small (40 customers, 5 days) on this test's topics and Redis prefix: it ends
 * with the support page's URL and a `read` key, both of which work while the demo serves the page, and Ctrl-C (SIGINT)
 * stops it with exit 0. Consumer groups of the demo's own stitchers keep their default names (one setting would give
 * the three the same group); the segmenter's and the warehouse's are this test's.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'vitest';
import { CLI_MAIN, spawnTs, testEnv, waitUntil } from './support/index.ts';

test('the demo prints the support page and a read key that opens it, serves it until Ctrl-C and exits 0', async () => {
  const env = await testEnv('demo');
  const childEnv = {
    ...env.childEnv,
    REDIS_PREFIX: `${env.prefix}ps:`,
    PROFILE_API_PORT: '0',
    SEGMENTER_GROUP_ID: `${env.prefix}segmenter`,
    WAREHOUSE_GROUP_ID: `${env.prefix}warehouse`,
    WAREHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), 'ps-demo-')),
  };
  const demo = spawnTs(CLI_MAIN, ['demo', '--customers', '40', '--days', '5', '--seed', '31', '--serve'], childEnv);
  let out = '';
  let err = '';
  demo.stdout!.on('data', (d) => {
    out += d;
  });
  demo.stderr!.on('data', (d) => {
    err = (err + d).slice(-8000);
  });
  try {
    const exited = once(demo, 'exit').then(([code]) => {
      throw new Error(`the demo exited (${String(code)}) before it printed the support page`);
    });
    exited.catch(() => undefined); // raced below; its later exit (after SIGINT) is not a failure
    const [, url, key] = await Promise.race([
      waitUntil(
        'the demo to print the support page',
        () => /^Support page: (http:\/\/127\.0\.0\.1:\d+\/support) \(API key: (psk_[0-9a-f]{16}_[\w-]{43})\)$/m.exec(out) ?? undefined,
        480_000,
      ),
      exited,
    ]);
    assert.match(out, /Serving the support page until Ctrl-C/);
    assert.match(out, /== 4b\. a loyalty member.*\n {3}member LM-\w+: \w+ since \S+ \(enrolled /, 'the demo shows a loyalty member');
    const page = await fetch(url!);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    // The key reads the demo's profiles: the customer whose e-mail the demo suggests.
    const email = /; try (\S+@\S+)$/m.exec(out)?.[1];
    assert.ok(email, out);
    const api = new URL(url!).origin;
    const r = await fetch(`${api}/v1/profiles/${encodeURIComponent(`email:${email}`)}`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(r.status, 200, await r.clone().text());
    assert.equal((await fetch(`${api}/v1/profiles/${encodeURIComponent(`email:${email}`)}`)).status, 401, 'and nothing without it');
    // The page's timeline reads the demo's warehouse, which keeps running while the page is served.
    const t = await fetch(`${api}/v1/profiles/${encodeURIComponent(`email:${email}`)}/timeline`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(t.status, 200, await t.clone().text());
    assert.ok(((await t.json()) as { events: unknown[] }).events.length > 0, 'the customer has events in the warehouse');
  } catch (e) {
    demo.kill('SIGKILL');
    throw Object.assign(e as Error, { message: `${(e as Error).message}\n--- demo stdout ---\n${out.slice(-4000)}\n--- stderr ---\n${err}` });
  }
  demo.kill('SIGINT');
  const [code] = (await once(demo, 'exit')) as [number | null];
  assert.equal(code, 0, err);
}, 600_000);
