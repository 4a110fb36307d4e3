/**
 * The support page (`/support`) through fastify's inject on the real Redis: served without a key with its CSP, no inline
 * script or style, every asset it names served; its labels and landmarks (the ones its script's header promises); the
 * script parses and finds every element it uses; the API's logs of the page's data calls hold no e-mail or phone.
 * The page in a real browser is test/support-page.chromium.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { type ApiDeps, buildApi, SUPPORT_ASSETS, SUPPORT_CSP } from '@profile-stream/api';
import { createLogger, REPO_ROOT } from '@profile-stream/consumer-kit';
import { eventFragment, normaliseIdentifiers, ProfileStore } from '@profile-stream/profile';
import { click } from '@profile-stream/segments/testing';
import { apiDeps, GB } from './support/api.ts';
import { testEnv, type TestEnv } from './support/index.ts';

const DIR = resolve(REPO_ROOT, 'packages/api/src/support');
const HEADINGS = ['Identity', 'Consent', 'Lifecycle and RFM', 'Segments', 'Orders', 'Support tickets', 'Devices', 'Timeline'];

let env: TestEnv;
let redis: Redis;
let app: FastifyInstance;
let deps: ApiDeps;
let readKey: string;
let html: string;

beforeAll(async () => {
  env = await testEnv('support');
  const prefix = `${env.prefix}ps:`;
  redis = new Redis(env.conn.redis.url);
  deps = apiDeps({ redis, prefix, store: new ProfileStore({ redis, prefix, windowMs: 30 * 86_400_000 }), log: env.log });
  readKey = (await deps.keys.create({ scopes: ['read'] })).key;
  app = await buildApi(deps);
  html = (await app.inject({ method: 'GET', url: '/support' })).body;
});
afterAll(async () => {
  await app?.close();
  redis?.disconnect();
});

describe('GET /support', () => {
  test('the page and its assets: no key needed, each with the CSP, nosniff, no referrer and an ETag (304 when unchanged)', async () => {
    assert.ok(!SUPPORT_CSP.includes('unsafe'), 'no unsafe-inline or unsafe-eval');
    assert.match(SUPPORT_CSP, /script-src 'self'/);
    assert.match(SUPPORT_CSP, /form-action 'none'/);
    for (const [path, [file, type]] of Object.entries(SUPPORT_ASSETS)) {
      const r = await app.inject({ method: 'GET', url: path });
      assert.equal(r.statusCode, 200, `${path}: ${r.body}`);
      assert.equal(r.headers['content-type'], type, path);
      assert.equal(r.headers['content-security-policy'], SUPPORT_CSP, path);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(r.headers['referrer-policy'], 'no-referrer');
      assert.equal(r.body, readFileSync(resolve(DIR, file), 'utf8'), `${path} is ${file}`);
      const again = await app.inject({ method: 'GET', url: path, headers: { 'if-none-match': String(r.headers.etag) } });
      assert.equal(again.statusCode, 304);
    }
    // Other paths under /support are not served (and need a key to learn so).
    assert.equal((await app.inject({ method: 'GET', url: '/support/serve.ts' })).statusCode, 401);
    // The page is not an API route: /docs does not list it.
    const docs = (await app.inject({ method: 'GET', url: '/docs', headers: { authorization: `Bearer ${readKey}` } })).json() as { paths: object };
    assert.ok(!Object.keys(docs.paths).some((p) => p.startsWith('/support')));
  });

  test('no inline script, style or handler; every asset the page names is served', async () => {
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'every script has a src');
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i);
    const named = [...html.matchAll(/\b(?:src|href)="(\/[^"]*)"/g)].map((m) => m[1]!);
    assert.deepEqual(
      named.sort(),
      Object.keys(SUPPORT_ASSETS)
        .filter((p) => p !== '/support')
        .sort(),
    );
    for (const path of named) assert.equal((await app.inject({ method: 'GET', url: path })).statusCode, 200, path);
  });

  test('labelled controls and landmarks, as the script’s header promises', () => {
    const js = readFileSync(resolve(DIR, 'app.js'), 'utf8');
    const header = js.slice(0, js.indexOf('*/'));
    const labelFor = (text: string) => html.match(new RegExp(`<label for="([\\w-]+)">${text}</label>`))?.[1];
    for (const [label, type] of [
      ['API key', 'password'],
      ['Search customer', 'search'],
    ] as const) {
      const id = labelFor(label);
      assert.ok(id, `a label "${label}"`);
      assert.match(html, new RegExp(`<input id="${id}"[^>]*type="${type}"`), `the "${label}" input`);
      assert.ok(header.includes(`"${label}"`), `the header names "${label}"`);
    }
    for (const button of ['Sign in', 'Search', 'Sign out', 'More events']) {
      assert.match(html, new RegExp(`<button[^>]*>${button}</button>`), button);
      assert.ok(header.includes(`"${button}"`), `the header names "${button}"`);
    }
    assert.match(html, /<main\b/);
    assert.match(html, /<header\b/);
    assert.match(html, /<search>/);
    assert.match(html, /<html lang="en">/);
    for (const heading of HEADINGS) {
      const h2 = html.match(new RegExp(`<h2 id="([\\w-]+)"[^>]*>${heading}</h2>`));
      assert.ok(h2, `a heading "${heading}"`);
      assert.match(html, new RegExp(`<section [^>]*aria-labelledby="${h2[1]}"`), `the "${heading}" section is labelled by its heading`);
      assert.ok(header.includes(`"${heading}"`), `the header names "${heading}"`);
    }
  });

  test('every text colour of the style sheet meets WCAG AA contrast (4.5:1) on the backgrounds it is drawn on', () => {
    const css = readFileSync(resolve(DIR, 'app.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    const vars = Object.fromEntries([...css.matchAll(/--([\w-]+):\s*(#[0-9a-f]{6})/gi)].map((m) => [m[1]!, m[2]!]));
    const value = (v: string) => (v.startsWith('var(') ? vars[v.slice(6, -1)]! : v === '#fff' ? '#ffffff' : v);
    const luminance = (hex: string) => {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    const contrast = (a: string, b: string) => {
      const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
      return (hi! + 0.05) / (lo! + 0.05);
    };
    let pairs = 0;
    for (const [, selector, body] of css.matchAll(/([^{}]+)\{([^}]*)\}/g)) {
      const color = body!.match(/(?:^|[;\s])color:\s*([^;]+);/)?.[1]?.trim();
      if (!color) continue;
      const own = body!.match(/background:\s*([^;]+);/)?.[1]?.trim();
      // Without a background of its own a rule's text sits on the page or on a panel.
      for (const bg of own ? [own] : ['var(--bg)', 'var(--panel)']) {
        const ratio = contrast(value(color), value(bg));
        assert.ok(ratio >= 4.5, `${selector!.trim()}: ${color} on ${bg} is ${ratio.toFixed(2)}:1`);
        pairs++;
      }
    }
    assert.ok(pairs >= 10, `${pairs} colour pairs checked`);
  });

  test('the scripts parse as modules, each import is a served asset, and every element they look up is on the page', () => {
    const files = Object.values(SUPPORT_ASSETS)
      .map(([file]) => file)
      .filter((file) => file.endsWith('.js'));
    assert.ok(files.length >= 2, 'app.js and the panels it imports');
    for (const file of files) {
      const check = spawnSync(process.execPath, ['--check', resolve(DIR, file)], { encoding: 'utf8' });
      assert.equal(check.status, 0, `${file}: ${check.stderr}`);
    }
    const js = files.map((file) => readFileSync(resolve(DIR, file), 'utf8')).join('\n');
    // A module import resolves against /support/app.js: it must be one of the served paths (the CSP allows only 'self').
    const imports = [...js.matchAll(/^import [^;]+ from '([^']+)';$/gm)].map((m) => new URL(m[1]!, 'http://x/support/app.js').pathname);
    assert.ok(imports.length >= 1);
    for (const path of imports) assert.ok(path in SUPPORT_ASSETS, `${path} is served`);
    // On the page, or made by the script itself (h('ol', { id: … })).
    const ids = new Set([...html.matchAll(/\bid="([\w-]+)"/g), ...js.matchAll(/\bid: '([\w-]+)'/g)].map((m) => m[1]));
    const used = [...js.matchAll(/\$\('([\w-]+)'\)/g)].map((m) => m[1]!);
    assert.ok(used.length > 20);
    for (const id of used) assert.ok(ids.has(id), `#${id} is on the page`);
  });

  test('the page’s data calls by e-mail leave no e-mail in the API’s logs, at debug level', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logged = await buildApi({ ...deps, log: createLogger({ name: 'support-log', level: 'debug', destination: sink }) });
    try {
      const event = { ...click(Date.now() - 1000, 'page_view').event, email: 'Secret.Person@Example.com', user_id: null, phone: '+44 7700 900123' };
      const ids = normaliseIdentifiers(event, GB);
      const { dropped: _dropped, ...kept } = ids;
      await deps.store.stitch([
        { ids: kept, eventId: event.event_id, occurredAt: event.occurred_at, fragment: () => eventFragment('clickstream', event as never, ids) },
      ]);
      const auth = { authorization: `Bearer ${readKey}` };
      for (const ref of ['email:Secret.Person@Example.com', 'phone:+447700900123']) {
        for (const path of ['', '/segments?all=1', '/timeline?limit=50']) {
          const r = await logged.inject({ method: 'GET', url: `/v1/profiles/${encodeURIComponent(ref)}${path}`, headers: auth });
          assert.ok([200, 503].includes(r.statusCode), r.body); // 503: no warehouse in this test
        }
      }
      const text = lines.join('');
      assert.ok(lines.length >= 6, 'the requests were logged');
      // (Digits alone could be a duration: the phone is looked for whole, as a logged path would carry it.)
      for (const secret of [/secret\.person/i, /example\.com/i, /7700900123/]) assert.doesNotMatch(text, secret);
    } finally {
      await logged.close();
    }
  });
});
