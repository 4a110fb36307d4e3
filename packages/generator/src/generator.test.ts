import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'vitest';
import {
  createGenerator,
  generate,
  GeneratorOptionsError,
  groundTruth,
  hasUsableIdentifier,
  isMalformed,
  recordKey,
  toJsonl,
  TOPICS,
  type GeneratedRecord,
  type GeneratorOptions,
  type GroundTruth,
  type ValidRecord,
} from './index.ts';

const START = Date.UTC(2025, 0, 1);
// about 20k records
const BASE: GeneratorOptions = { seed: 20250101, customers: 320, start: START, days: 90, loyaltyShare: 0.3 };

function collect(options: GeneratorOptions): { records: GeneratedRecord[]; truth: GroundTruth } {
  const run = createGenerator(options);
  const records = [...run.records];
  return { records, truth: run.truth() };
}

const baseRun = collect(BASE);
const valid = baseRun.records.filter((r): r is ValidRecord => !isMalformed(r));

describe('generator', () => {
  test('produces about 20k records over all four input topics', () => {
    assert.ok(baseRun.records.length > 15_000 && baseRun.records.length < 30_000, `got ${baseRun.records.length}`);
    for (const topic of TOPICS)
      assert.ok(
        valid.some((r) => r.topic === topic),
        topic,
      );
  });

  test('is deterministic: same options give byte-identical output, another seed differs', () => {
    const again = [...generate(BASE)].map(toJsonl).join('\n');
    assert.equal(again, baseRun.records.map(toJsonl).join('\n'));
    const other = [...generate({ ...BASE, seed: BASE.seed + 1 })].slice(0, 200).map(toJsonl);
    assert.notDeepEqual(other, baseRun.records.slice(0, 200).map(toJsonl));
  });

  test('keys are deterministic too', () => {
    const again = [...generate(BASE)].map((r) => r.key);
    assert.deepEqual(
      again,
      baseRun.records.map((r) => r.key),
    );
  });

  test('occurred_at never decreases across topics', () => {
    let last = -Infinity;
    for (const r of valid) {
      assert.ok(r.value.occurred_at >= last, `${r.value.event_id} goes back in time`);
      last = r.value.occurred_at;
      assert.ok(r.value.occurred_at >= START && r.value.occurred_at < START + 90 * 86_400_000);
    }
  });

  test('event ids are unique except for the flagged duplicates, which follow their original', () => {
    const seen = new Set<string>();
    let dups = 0;
    for (let i = 0; i < valid.length; i++) {
      const r = valid[i] as ValidRecord;
      if (seen.has(r.value.event_id)) {
        dups++;
        assert.deepEqual(r, valid[i - 1], 'a duplicate is an exact copy sent right after the original');
      }
      seen.add(r.value.event_id);
    }
    const t = baseRun.truth;
    assert.equal(dups, t.duplicates.clickstream + t.duplicates.purchases + t.duplicates['support-tickets']);
  });

  test('counts match the ground truth', () => {
    const t = baseRun.truth;
    assert.equal(t.records, baseRun.records.length);
    for (const topic of TOPICS) {
      const unique = new Set(valid.filter((r) => r.topic === topic).map((r) => r.value.event_id));
      assert.equal(t.valid[topic], unique.size, topic);
      assert.equal(t.malformed[topic], baseRun.records.filter((r) => isMalformed(r) && r.topic === topic).length, topic);
      const perCustomer = t.per_customer.reduce((s, c) => s + c.events[topic], 0);
      assert.equal(perCustomer, t.valid[topic], `${topic} per customer`);
    }
    assert.equal(t.customers, BASE.customers);
    assert.ok(t.expected_profiles >= t.active_customers);
    assert.deepEqual(groundTruth(BASE), t, 'groundTruth() equals the truth of a streamed run');
  });

  test('junk, malformed and duplicate rates are near what was asked', () => {
    const t = baseRun.truth;
    const n = t.records;
    const near = (actual: number, want: number, what: string): void =>
      assert.ok(Math.abs(actual - want) <= 4 * Math.sqrt(want) + 2, `${what}: ${actual} vs ~${want.toFixed(0)}`);
    const malformed = TOPICS.reduce((s, tp) => s + t.malformed[tp], 0);
    near(malformed, n * 0.005, 'malformed');
    near(t.junk_events, n * 0.01, 'junk');
    near(
      TOPICS.reduce((s, tp) => s + t.duplicates[tp], 0),
      n * 0.002,
      'duplicates',
    );
    const custom = groundTruth({ ...BASE, customers: 160, junkRate: 0.1, malformedRate: 0.05, duplicateRate: 0 });
    near(custom.junk_events, custom.records * 0.1 * 0.95, 'junk at 10 %');
    near(
      TOPICS.reduce((s, tp) => s + custom.malformed[tp], 0),
      custom.records * 0.05,
      'malformed at 5 %',
    );
    assert.equal(
      TOPICS.reduce((s, tp) => s + custom.duplicates[tp], 0),
      0,
    );
    for (const reason of Object.keys(t.malformed_by_reason)) assert.ok((custom.malformed_by_reason as Record<string, number>)[reason]! > 0, reason);
  });

  test('every valid event has a usable identifier; malformed ones say why', () => {
    for (const r of valid) assert.ok(hasUsableIdentifier(r.value), `no identifier on ${r.value.event_id}`);
    for (const r of baseRun.records) {
      if (!isMalformed(r)) continue;
      assert.equal(typeof r.raw, 'string');
      if (r.malformed === 'invalid_json') assert.throws(() => JSON.parse(r.raw));
      else {
        const v = JSON.parse(r.raw) as Record<string, unknown>;
        if (r.malformed === 'missing_event_id') assert.equal(v.event_id, undefined);
        if (r.malformed === 'no_usable_identifier') {
          assert.ok(!hasUsableIdentifier(v as never));
          assert.equal(r.key, null);
        }
      }
    }
  });

  test('junk identifier values appear the way real systems send them', () => {
    const junk = new Set<string>();
    for (const r of valid)
      for (const f of ['anonymous_id', 'user_id', 'email', 'phone'] as const) {
        const v = r.value[f];
        if (v !== null && ['null', 'undefined', '0', 'unknown', 'test@test.com', 'N/A', ''].includes(v)) junk.add(v);
      }
    assert.ok(junk.size >= 5, [...junk].join(','));
  });

  test('purchase totals equal the sum of their items; refunds and cancellations reuse a completed order id', () => {
    const completed = new Map<string, number>();
    for (const r of valid) {
      if (r.topic !== 'purchases') continue;
      const p = r.value;
      assert.ok(p.items.length >= 1 && p.items.length <= 5);
      assert.equal(
        p.total_minor,
        p.items.reduce((s, i) => s + i.quantity * i.unit_price_minor, 0),
      );
      assert.ok(p.total_minor > 0 && Number.isInteger(p.total_minor));
      if (p.status === 'completed') completed.set(p.order_id, p.total_minor);
    }
    const statuses = new Set(valid.flatMap((r) => (r.topic === 'purchases' ? [r.value.status] : [])));
    assert.deepEqual([...statuses].sort(), ['cancelled', 'completed', 'refunded']);
  });

  test('truth per customer follows the DESIGN §5 definitions', () => {
    const t = baseRun.truth;
    const revenue: Record<string, number> = {};
    const orders = new Map<string, { completed: boolean; cancelled: boolean }>();
    for (const r of valid) {
      if (r.topic !== 'purchases') continue;
      const p = r.value;
      const sign = p.status === 'completed' ? 1 : -1;
      revenue[p.currency] = (revenue[p.currency] ?? 0) + sign * p.total_minor;
      const o = orders.get(p.order_id) ?? { completed: false, cancelled: false };
      if (p.status === 'completed') o.completed = true;
      if (p.status === 'cancelled') o.cancelled = true;
      orders.set(p.order_id, o);
    }
    // the record list holds duplicates: take them back out of the naive sum
    const dupPurchases = valid.filter((r, i) => r.topic === 'purchases' && i > 0 && valid[i - 1] === r);
    for (const r of dupPurchases) {
      if (r.topic !== 'purchases') continue;
      revenue[r.value.currency] = (revenue[r.value.currency] ?? 0) - (r.value.status === 'completed' ? 1 : -1) * r.value.total_minor;
    }
    assert.deepEqual(t.revenue_minor, revenue);
    assert.equal(t.orders_count, [...orders.values()].filter((o) => o.completed && !o.cancelled).length);
    const buyers = t.per_customer.filter((c) => c.transactions.orders_count > 0);
    assert.ok(buyers.length > 0 && buyers.length < t.per_customer.length, 'some customers only browse');
    assert.ok(
      t.per_customer.some((c) => c.transactions.orders_count >= 5),
      'some are loyal',
    );
    assert.ok(t.per_customer.some((c) => c.support.last_csat !== null));
    assert.ok(t.per_customer.some((c) => c.consent.email?.granted === false));
    for (const c of t.per_customer) {
      assert.ok(c.identity.user_ids.length <= 1);
      assert.ok(c.identity.emails.length <= 1, 'every spelling of an email normalises to the one true address');
      assert.ok(c.identity.phones.length <= 1, 'every spelling of a phone normalises to one E.164 number');
      for (const p of c.identity.phones) assert.match(p, /^\+[1-9]\d{7,14}$/);
      assert.ok(c.fragments >= 1);
    }
  });

  test('keys follow the topic rules', () => {
    for (const r of valid) {
      assert.equal(r.key, recordKey(r.topic, r.value, 'GB'));
      const v = r.value;
      if (r.topic === 'clickstream' && v.user_id === 'u_1') assert.equal(r.key, 'u_1');
      if (r.topic !== 'clickstream' && r.key !== null && r.key.includes('@')) assert.equal(r.key, r.key.trim().toLowerCase());
    }
  });

  test('messy spellings: emails with stray spaces and capitals, phones in several formats', () => {
    const emails = valid.map((r) => r.value.email).filter((e): e is string => typeof e === 'string' && e.includes('@') && e !== 'test@test.com');
    assert.ok(emails.some((e) => e !== e.trim()));
    assert.ok(emails.some((e) => e !== e.toLowerCase()));
    const phones = valid.map((r) => r.value.phone).filter((p): p is string => p !== null && p.length > 5);
    assert.ok(
      phones.some((p) => p.startsWith('0') && !p.startsWith('00')),
      'national GB spelling',
    );
    assert.ok(phones.some((p) => p.startsWith('+') && p.includes(' ')));
    assert.ok(phones.some((p) => p.includes('(0)')));
  });

  test('the first page view of a device carries first-touch utm or referrer', () => {
    const firstByDevice = new Map<string, ValidRecord>();
    for (const r of valid) {
      if (r.topic === 'clickstream' && r.value.type === 'page_view' && r.value.anonymous_id && !firstByDevice.has(r.value.anonymous_id)) {
        firstByDevice.set(r.value.anonymous_id, r);
      }
    }
    const withSource = [...firstByDevice.values()].filter((r) => r.topic === 'clickstream' && (r.value.utm || r.value.page?.referrer));
    assert.ok(withSource.length / firstByDevice.size > 0.5);
  });

  test('validates options eagerly and names the bad setting', () => {
    assert.throws(
      () => createGenerator({ ...BASE, junkRate: 2 }),
      (e: unknown) => e instanceof GeneratorOptionsError && e.option === 'junkRate' && e.code === 'invalid_options',
    );
    assert.throws(() => createGenerator({ ...BASE, defaultRegion: 'XX' }), GeneratorOptionsError);
    assert.throws(() => createGenerator({ ...BASE, currencies: ['pounds'] }), GeneratorOptionsError);
  });

  test('100k events stream in bounded memory', { timeout: 120_000 }, () => {
    // a child process with a 40 MB old-space cap: keeping 100k records (well over 100 MB of objects) would crash it
    const script = `
      import { generate } from ${JSON.stringify(new URL('./index.ts', import.meta.url).href)};
      let n = 0;
      const t0 = performance.now();
      for (const r of generate({ seed: 5, customers: 1600, start: ${START}, days: 90 })) if (r.topic) n++;
      const secs = (performance.now() - t0) / 1000;
      console.log(JSON.stringify({ n, secs, heap: process.memoryUsage().heapUsed }));`;
    const child = spawnSync(process.execPath, ['--max-old-space-size=40', '--input-type=module', '--eval', script], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const { n, secs } = JSON.parse(child.stdout) as { n: number; secs: number };
    assert.ok(n >= 90_000, `only ${n} records`);
    console.log(`# ${n} records in ${secs.toFixed(2)} s (${Math.round(n / secs)} records/s) under a 40 MB heap cap`);
  });
});
