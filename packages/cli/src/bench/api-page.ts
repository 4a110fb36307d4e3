/**
 * `bench api`'s page timing: the support page in headless Chromium (Debian's chromium through playwright-core) for one
 * customer with 1,000 events, folded into Redis as a stitcher folds them and written to ClickHouse by the warehouse
 * (the page's timeline and tickets read it there). The page is opened N times in one tab that has signed in once:
 * from the navigation to `/support#<profile id>` until the page marks `<main data-render="ready">` (every panel
 * filled); next to it the page's own measure `support:render` (its data calls and rendering, without loading the page).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickEvent, Purchase, SupportTicket } from '@profile-stream/contracts';
import type { ValidRecord } from '@profile-stream/generator';
import { launchChromium } from '@profile-stream/infra';
import { eventFragment, hasIdentifier, normaliseIdentifiers, type NormaliseOptions, type ProfileStore, type StitchItem } from '@profile-stream/profile';
import { type Bench, caughtUp, freePort, startService } from './harness.ts';
import { summarize } from './stats.ts';

const HOUR = 3_600_000;
const WHO = { anonymous_id: null, user_id: 'bench-page-user', email: 'page.customer@example.com', phone: '+447700900123' };
const CLICKS: ClickEvent['type'][] = ['page_view', 'product_view', 'search', 'add_to_cart', 'page_view', 'email_open'];
const TICKET_STEPS: SupportTicket['status'][] = ['opened', 'updated', 'resolved'];

/** One customer's `n` events over the last n × 6 hours: mostly clicks, an order every 25th, a ticket step every 40th. */
export function pageCustomer(now: number, n: number): ValidRecord[] {
  const out: ValidRecord[] = [];
  for (let i = 0; i < n; i++) {
    const head = { ...WHO, event_id: `bench-page-${i}`, occurred_at: now - (n - i) * 6 * HOUR, account: null };
    if (i % 25 === 5) {
      const order: Purchase = { ...head, order_id: `bench-o-${i}`, status: 'completed', channel: 'web', currency: 'GBP', total_minor: 2500 + i, items: [] };
      out.push({ topic: 'purchases', key: WHO.user_id, value: order });
    } else if (i % 40 === 7) {
      const step = Math.floor(i / 40) % 3;
      const ticket: SupportTicket = {
        ...head,
        ticket_id: `bench-t-${Math.floor(i / 120)}`,
        status: TICKET_STEPS[step]!,
        channel: 'chat',
        priority: 'normal',
        category: 'delivery',
        subject: 'Parcel late',
        satisfaction: step === 2 ? 4 : null,
      };
      out.push({ topic: 'support-tickets', key: WHO.user_id, value: ticket });
    } else {
      const type = CLICKS[i % CLICKS.length]!;
      const click: ClickEvent = {
        ...head,
        type,
        page: { url: `https://shop.example/p/${i % 50}`, referrer: null, title: `Product ${i % 50}` },
        utm: null,
        device: { type: i % 3 === 0 ? 'desktop' : 'mobile', os: null, browser: null },
        country: 'GB',
        locale: 'en-GB',
        product: type === 'product_view' || type === 'add_to_cart' ? { sku: `SKU-${i % 50}`, category: 'shoes', price_minor: 4599, currency: 'GBP' } : null,
        search_query: type === 'search' ? 'boots' : null,
        consent: null,
      };
      out.push({ topic: 'clickstream', key: WHO.user_id, value: click });
    }
  }
  return out;
}

/** An event as a stitcher folds it (identifiers over a profile's limits not attached); undefined when it has none. */
export function stitchItemOf(r: ValidRecord, normalise: NormaliseOptions): StitchItem | undefined {
  const ids = normaliseIdentifiers(r.value, normalise);
  if (!hasIdentifier(ids)) return undefined;
  const { dropped: _dropped, ...attachable } = ids;
  return {
    ids: attachable,
    eventId: r.value.event_id,
    occurredAt: r.value.occurred_at,
    fragment: (res) => {
      const attached = { ...ids };
      for (const x of res.dropped) delete attached[x.type];
      return eventFragment(r.topic, r.value as never, attached);
    },
  };
}

/** Folds the customer into Redis and produces the same events for the warehouse; returns the profile id. */
async function seedPageCustomer(b: Bench, store: ProfileStore, normalise: NormaliseOptions, records: ValidRecord[]): Promise<string> {
  const items = records.map((r) => stitchItemOf(r, normalise)).filter((x): x is StitchItem => x !== undefined);
  for (let i = 0; i < items.length; i += 500) await store.resolver.settle((await store.stitch(items.slice(i, i + 500))).merges);
  const producer = await b.clients.producer();
  for (const topic of ['clickstream', 'purchases', 'support-tickets'] as const) {
    const name = b.topics[topic].topic;
    const messages = [];
    for (const r of records.filter((x) => x.topic === topic)) messages.push({ key: r.key, value: await b.clients.registry.encode(name, r.value) });
    await producer.send({ topic: name, acks: -1, messages });
  }
  const profileId = await store.owner('user_id', WHO.user_id);
  if (!profileId) throw new Error(`no profile owns user ${WHO.user_id} after its ${records.length} events were folded`);
  return profileId;
}

export interface PagePrepared {
  profileId: string;
  /** For the profile API: where the warehouse answers SQL. */
  env: NodeJS.ProcessEnv;
  warehouse: ChildProcess;
  /** The warehouse's chDB directory (removed by the caller at the end). */
  dataDir: string;
}

/** The page's customer (`events` of them) in Redis and, through a warehouse of this run with its own chDB, in ClickHouse. */
export async function preparePage(b: Bench, store: ProfileStore, normalise: NormaliseOptions, events: number): Promise<PagePrepared> {
  process.stderr.write(`the support page's customer: ${events} events into Redis and, through the warehouse, ClickHouse...\n`);
  const profileId = await seedPageCustomer(b, store, normalise, pageCustomer(Date.now(), events));
  const env = { WAREHOUSE_OPS_PORT: String(await freePort()) };
  const dataDir = mkdtempSync(join(tmpdir(), 'ps-bench-page-'));
  const group = `${b.prefix}warehouse`;
  const warehouse = startService(b, 'warehouse', { ...env, WAREHOUSE_DATA_DIR: dataDir, WAREHOUSE_GROUP_ID: group, LOG_LEVEL: 'error' });
  for (const t of ['clickstream', 'purchases', 'support-tickets'] as const) {
    await caughtUp(b.kafka, group, b.topics[t].topic, { services: [warehouse], timeoutMs: 300_000 });
  }
  return { profileId, env, warehouse, dataDir };
}

export interface PageTiming {
  row: Record<string, string | number>;
  /** Each of the page's data calls (Resource Timing in the page: request to last byte), p50/p99 over the runs. */
  calls: Record<string, string | number>[];
}

/** The page's data call an API URL is (the page makes these four on every search). */
function callOf(url: string): string {
  if (url.includes('/segments')) return 'GET …/segments?all=1';
  if (url.includes('type=support_ticket')) return 'GET …/timeline?type=support_ticket (tickets)';
  if (url.includes('/timeline')) return 'GET …/timeline (page 1)';
  return 'GET /v1/profiles/:ref';
}

/** Opens the page `runs` times (after 3 warm-up opens) and reports open → ready and the page's own render measure. */
export async function timeSupportPage(o: { base: string; key: string; profileId: string; runs: number; log: (m: string) => void }): Promise<PageTiming> {
  const browser = await launchChromium(o.log);
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(`${o.base}/support`);
    await page.getByLabel('API key').fill(o.key);
    await page.getByLabel('API key').press('Enter');
    await page.getByLabel('Search customer').waitFor();
    const open: number[] = [];
    const inPage: number[] = [];
    const calls = new Map<string, number[]>();
    for (let i = 0; i < o.runs + 3; i++) {
      await page.goto('about:blank');
      const t0 = performance.now();
      await page.goto(`${o.base}/support#${o.profileId}`); // the tab keeps its key: the page shows this profile at once
      await page.locator('main[data-render="ready"], main[data-render="error"]').waitFor();
      const ms = performance.now() - t0;
      if ((await page.locator('main').getAttribute('data-render')) !== 'ready') throw new Error(`the support page failed to show ${o.profileId}`);
      if (i === 0 && (await page.getByRole('region', { name: 'Timeline' }).getByRole('listitem').count()) === 0)
        throw new Error('the support page shows no timeline: the warehouse did not answer the profile API');
      const measured = await page.evaluate(() => ({
        render: performance.getEntriesByName('support:render').at(-1)?.duration ?? Number.NaN,
        calls: performance
          .getEntriesByType('resource')
          .filter((e) => e.name.includes('/v1/profiles/'))
          .map((e) => [e.name, e.duration] as const),
      }));
      if (i < 3) continue;
      open.push(ms);
      inPage.push(measured.render);
      for (const [url, d] of measured.calls) calls.set(callOf(url), [...(calls.get(callOf(url)) ?? []), d]);
    }
    const a = summarize(open);
    const b = summarize(inPage);
    const f = (x: number) => x.toFixed(1);
    return {
      row: {
        page: 'GET /support, a profile with 1,000 events',
        runs: a.n,
        'open → ready p50_ms': f(a.p50),
        p99_ms: f(a.p99),
        max_ms: f(a.max),
        'in page (support:render) p50_ms': f(b.p50),
        'in page p99_ms': f(b.p99),
        // The page waits on four processes (browser, API, Redis, warehouse): a busy machine shows here first.
        'load avg (1 min)': loadavg()[0]!.toFixed(1),
      },
      calls: [...calls].map(([call, d]) => {
        const c = summarize(d);
        return { 'data call': call, n: c.n, p50_ms: f(c.p50), p99_ms: f(c.p99), max_ms: f(c.max) };
      }),
    };
  } finally {
    await browser.close();
  }
}
