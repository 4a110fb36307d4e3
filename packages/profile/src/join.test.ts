import assert from 'node:assert/strict';
import { fc, test } from '@fast-check/vitest';
import { describe, it } from 'vitest';
import { cmpStr, compactDoc } from './doc.ts';
import type { DocObject, DocValue, ProfileDoc } from './doc.ts';
import { join, joinAll } from './join.ts';
import { RULES } from './rules.ts';
import type { Rule } from './rules.ts';
import { docArb } from './testing/arbitraries.ts';

const RUNS = { numRuns: 600 };

/** The doc with every `sum` leaf multiplied by k (what join(a, a) does to sums). */
function scaleSums(rule: Rule, v: DocValue | undefined, k: number): DocValue | undefined {
  if (v === undefined || typeof v !== 'object') return rule.kind === 'sum' ? (v as number) * k : v;
  if (rule.kind === 'map') return Object.fromEntries(Object.entries(v).map(([key, x]) => [key, scaleSums(rule.of, x, k)!]));
  if (rule.kind === 'record') {
    return Object.fromEntries(Object.entries(v).map(([f, x]) => [f, scaleSums(rule.fields[f]!, x, k)!]));
  }
  return v;
}

describe('join laws (fast-check on random documents)', () => {
  test.prop([docArb, docArb], RUNS)('is commutative', (a, b) => {
    assert.deepEqual(join(a, b), join(b, a));
  });

  test.prop([docArb, docArb, docArb], RUNS)('is associative', (a, b, c) => {
    assert.deepEqual(join(join(a, b), c), join(a, join(b, c)));
  });

  test.prop([docArb], RUNS)('is idempotent on every rule but sum, which doubles (sums rely on de-duplication by event_id)', (a) => {
    assert.deepEqual(join(a, a), scaleSums(RULES, a as DocObject, 2));
  });

  test.prop([docArb, docArb], RUNS)('has the empty document as identity, and returns canonical documents', (a, b) => {
    assert.deepEqual(join(a, {}), a);
    assert.deepEqual(join({}, a), a);
    const j = join(a, b);
    assert.deepEqual(compactDoc(j), j);
  });

  // What stays the same object is not copied (issue 12: fewer objects per fold for the collector).
  test.prop([docArb, docArb], RUNS)('gives the first input itself, and its unchanged parts, where the second adds nothing', (a, b) => {
    assert.equal(join(a, {}), a);
    assert.equal(join(a, scaleSums(RULES, a as DocObject, 0) as ProfileDoc), a); // a's own values, sums 0: adds nothing
    assert.equal(joinAll([a, {}, {}]), a);
    const j = join(a, b);
    for (const section of Object.keys(j) as (keyof ProfileDoc)[]) if (b[section] === undefined) assert.equal(j[section], a[section]);
  });

  test.prop([docArb, docArb], { numRuns: 200 })('never mutates its inputs', (a, b) => {
    const [ca, cb] = [structuredClone(a), structuredClone(b)];
    join(a, b);
    assert.deepEqual(a, ca);
    assert.deepEqual(b, cb);
  });
});

describe('joinAll: many documents in one pass', () => {
  const docsArb = fc.array(docArb, { maxLength: 7 });

  // Equal values; the key order may differ only inside a set that went over its limit on the way (the fold sorted it
  // at some step and moved ranks after), and a set's key order carries nothing: every reader sorts (view.ts).
  test.prop([docsArb], RUNS)('equals the left fold of join', (docs) => {
    const folded = docs.reduce((acc, d) => join(acc, d), {} as ProfileDoc);
    assert.deepEqual(joinAll(docs), folded);
  });

  test.prop([docArb, docsArb], RUNS)('equals what the store did before: the fragments folded, then joined onto the stored document', (base, fragments) => {
    const acc = fragments.reduce((a, d) => join(a, d), {} as ProfileDoc);
    assert.deepEqual(joinAll([base, ...fragments]), join(base, acc));
  });

  test.prop([docsArb], { numRuns: 200 })('never mutates its inputs', (docs) => {
    const copies = structuredClone(docs);
    joinAll(docs);
    assert.deepEqual(docs, copies);
  });
});

describe('join rules', () => {
  const cell = (v: string, t: number, id: string) => ({ v, t, id });

  it('lww keeps the latest (t, then event id); fww the earliest', () => {
    const a: ProfileDoc = { demographic: { country: cell('DE', 5, 'e2') }, acquisition: { first_order_channel: cell('web', 5, 'e2') } };
    const b: ProfileDoc = { demographic: { country: cell('FR', 5, 'e10') }, acquisition: { first_order_channel: cell('app', 5, 'e10') } };
    // 'e10' < 'e2' as strings: the tie on t is broken by event id, not by arrival
    assert.equal(join(a, b).demographic?.country?.v, 'DE');
    assert.equal(join(a, b).acquisition?.first_order_channel?.v, 'app');
  });

  it('sets keep the largest rank per value and the top N by (rank desc, value asc)', () => {
    const a: ProfileDoc = { identity: { user_ids: { u1: 5 } } };
    const b: ProfileDoc = { identity: { user_ids: { u0: 5 } } };
    assert.deepEqual(join(a, b).identity?.user_ids, { u0: 5 });
    const emails = (xs: [string, number][]): ProfileDoc => ({ identity: { emails: Object.fromEntries(xs) } });
    const j = join(
      emails([
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ]),
      emails([
        ['a', 9],
        ['d', 3],
        ['e', 3],
        ['f', 0],
      ]),
    );
    assert.deepEqual(j.identity?.emails, { a: 9, c: 3, d: 3, e: 3, b: 2 });
  });

  it('maps and records join per key and per field; a "__proto__" key stays data', () => {
    const a = JSON.parse('{"activity":{"product_views_by_category":{"__proto__":2,"shoes":1}}}') as ProfileDoc;
    const b = JSON.parse('{"activity":{"product_views_by_category":{"__proto__":3}}}') as ProfileDoc;
    const j = join(a, b).activity?.product_views_by_category ?? {};
    assert.deepEqual(Object.keys(j).sort(), ['__proto__', 'shoes']);
    assert.equal(Object.getOwnPropertyDescriptor(j, '__proto__')?.value, 5);
    assert.equal(Object.getPrototypeOf(j), Object.prototype);
  });

  it('compares strings by code point (UTF-8 byte order), not UTF-16 units', () => {
    assert.ok(cmpStr('\uE000', '😀') < 0); // U+E000 < U+1F600, though '\uE000' > '\uD83D' in UTF-16
    assert.ok(cmpStr('B', 'a') < 0 && cmpStr('a', 'ab') < 0 && cmpStr('é', 'z') > 0);
  });
});
