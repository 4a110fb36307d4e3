// Breakpoints from population quintiles: the scores they give against the quintile rule (1 + ⌊5·W(v)⌋), ties, degenerate
// populations, currencies, and definitions following the shared model.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, test } from 'vitest';
import { loadDefinitions } from './load.ts';
import { parseDefinition } from './definition.ts';
import {
  breakpointsFrom,
  followsSharedModel,
  modelOf,
  populationModel,
  recencyBreakpointsFrom,
  rfmVersionSchema,
  versionDoc,
  withRfmModel,
  type PopulationQuintiles,
} from './rfm-population.ts';
import { ascending, DEFAULT_RFM_MODEL, rfmScores, type RfmModel } from './rfm.ts';

const DAY = 86_400_000;

/** The rank rule, written out: the value at rank ⌈k·n/5⌉ of the values sorted worst to best. */
const quintiles = (worstFirst: readonly number[]) => [1, 2, 3, 4].map((k) => worstFirst[Math.ceil((k * worstFirst.length) / 5) - 1]!);

/** The quintile score: 1 + ⌊5·W(v)⌋, W(v) = share of the population strictly worse than v. */
function quintileScore(v: number, population: readonly number[], better: (a: number, b: number) => boolean): number {
  const worse = population.filter((x) => better(v, x)).length;
  return Math.min(5, 1 + Math.floor((5 * worse) / population.length));
}

const model = (over: Partial<RfmModel>): RfmModel => ({ ...DEFAULT_RFM_MODEL, ...over });
const population = fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 300 });

describe('breakpoints from quintiles', () => {
  test('frequency: with distinct quintiles every customer scores 1 + ⌊5·W(v)⌋; always strictly ascending, and above k only if better than k fifths', () => {
    fc.assert(
      fc.property(population, (orders) => {
        const sorted = [...orders].sort((a, b) => a - b);
        const q = quintiles(sorted);
        const b = breakpointsFrom(q);
        assert.ok(ascending(b), `${b}`);
        const m = model({ frequency: b });
        for (const v of orders) {
          const f = rfmScores(m, 0, v, {}, 0)!.f;
          if (ascending(q))
            assert.equal(
              f,
              quintileScore(v, orders, (x, y) => x > y),
              `orders ${v} of ${sorted}`,
            );
          else assert.ok(f <= quintileScore(v, orders, (x, y) => x > y));
        }
        for (let k = 1; k <= 4; k++) assert.ok(5 * orders.filter((v) => rfmScores(m, 0, v, {}, 0)!.f > k).length <= orders.length * (5 - k));
      }),
    );
  });

  test('recency: ages, younger is better, the same rule mirrored', () => {
    fc.assert(
      fc.property(population, (days) => {
        const ages = days.map((d) => d * DAY);
        const q = quintiles([...ages].sort((a, b) => b - a)); // oldest first
        const r = recencyBreakpointsFrom(q);
        assert.ok(ascending(r), `${r}`);
        const m = model({ recency: r });
        const now = 1000 * DAY;
        for (const age of ages) {
          const score = rfmScores(m, now - age, 1, {}, now)!.r;
          if (new Set(q).size === 4)
            assert.equal(
              score,
              quintileScore(age, ages, (x, y) => x < y),
              `age ${age / DAY} d`,
            );
          else assert.ok(score <= quintileScore(age, ages, (x, y) => x < y));
        }
      }),
    );
  });

  test('ties: a tied breakpoint moves one unit past the one below; the score between stays empty', () => {
    // 40 % bought once, then 2, 3, 5 orders: quintiles 1, 1, 2, 5
    assert.deepEqual(breakpointsFrom([1, 1, 2, 5]), [2, 3, 4, 6]);
    assert.deepEqual(breakpointsFrom([1, 1, 1, 2]), [2, 3, 4, 5]);
    assert.deepEqual(breakpointsFrom([3, 4, 5, 6]), [4, 5, 6, 7]);
    // ages oldest first: 300 d, 100 d, 100 d, 10 d → age ≥ 100 d - 1 ms already scores 2
    assert.deepEqual(recencyBreakpointsFrom([300, 100, 100, 10]), [10, 99, 100, 300]);
    assert.deepEqual(recencyBreakpointsFrom([300, 200, 100, 10]), [10, 100, 200, 300]);
  });
});

const quints = (over: Partial<PopulationQuintiles> = {}): PopulationQuintiles => ({
  customers: 100,
  recencyAges: [300 * DAY, 120 * DAY, 40 * DAY, 7 * DAY],
  frequency: [1, 2, 3, 6],
  monetary: { GBP: { customers: 90, quintiles: [1000, 2500, 5000, 12_000] }, EUR: { customers: 60, quintiles: [900, 2000, 4000, 9000] } },
  ...over,
});

describe('populationModel', () => {
  test('a model per currency, ages and counts as breakpoints', () => {
    const m = populationModel(quints(), 50);
    assert.ok(m.ok);
    assert.deepEqual(m.model, {
      recency: [7 * DAY, 40 * DAY, 120 * DAY, 300 * DAY],
      frequency: [2, 3, 4, 7],
      monetary: { EUR: [901, 2001, 4001, 9001], GBP: [1001, 2501, 5001, 12_001] },
    });
    assert.deepEqual(m.skipped, {});
    // the best currency counts: 5,001 GBP is 4, 950 EUR is 2
    assert.equal(rfmScores(m.model, 0, 1, { GBP: 5001, EUR: 950 }, 0)!.m, 4);
    assert.equal(rfmScores(m.model, 0, 1, { USD: 1_000_000 }, 0)!.m, 1);
  });

  test('degenerate: too few customers, flat recency, everyone bought once', () => {
    assert.deepEqual(populationModel(quints({ customers: 49 }), 50), {
      ok: false,
      reason: '49 customer(s) with a completed order, fewer than the 50 needed (RFM_MIN_CUSTOMERS)',
    });
    assert.match(
      (populationModel(quints({ recencyAges: [DAY, DAY, DAY, DAY] }), 50) as { reason: string }).reason,
      /all four recency quintiles are the same age/,
    );
    assert.match(
      (populationModel(quints({ frequency: [1, 1, 1, 1] }), 50) as { reason: string }).reason,
      /all four frequency quintiles are 1 order\(s\) \(e\.g\. everyone bought once\)/,
    );
  });

  test('a currency with too few customers or flat quintiles is left out and named; none left is degenerate', () => {
    const few = populationModel(
      quints({
        monetary: {
          GBP: { customers: 90, quintiles: [1, 2, 3, 4] },
          USD: { customers: 3, quintiles: [5, 6, 7, 8] },
          EUR: { customers: 70, quintiles: [500, 500, 500, 500] },
        },
      }),
      50,
    );
    assert.ok(few.ok);
    assert.deepEqual(Object.keys(few.model.monetary), ['GBP']);
    assert.deepEqual(few.skipped, { EUR: 'all four quintiles are 500', USD: '3 customer(s), fewer than 50' });
    const none = populationModel(quints({ monetary: { USD: { customers: 3, quintiles: [5, 6, 7, 8] } } }), 50);
    assert.deepEqual(none, { ok: false, reason: 'no currency has usable monetary quintiles (USD: 3 customer(s), fewer than 50)' });
  });

  test('net revenue at or below zero still gives breakpoints (refunds can exceed purchases)', () => {
    const m = populationModel(quints({ monetary: { GBP: { customers: 90, quintiles: [-500, 0, 0, 800] } } }), 50);
    assert.ok(m.ok);
    assert.deepEqual(m.model.monetary.GBP, [-499, 1, 2, 801]);
  });
});

describe('the stored version', () => {
  test('round trip through the schema; breakpoints not strictly ascending are refused', () => {
    const q = quints();
    const m = populationModel(q, 50);
    assert.ok(m.ok);
    const doc = { version: 3, ...versionDoc(q, m.model, m.skipped, Date.UTC(2026, 0, 2), Date.UTC(2026, 0, 1)) };
    const parsed = rfmVersionSchema.parse(JSON.parse(JSON.stringify(doc)));
    assert.deepEqual(modelOf(parsed), m.model);
    assert.equal(parsed.as_of, '2026-01-01T00:00:00.000Z');
    const bad = { ...doc, breakpoints: { ...doc.breakpoints, frequency: [2, 3, 3, 7] } };
    assert.equal(rfmVersionSchema.safeParse(bad).success, false);
  });
});

describe('definitions following the shared model', () => {
  test('the shipped rfm-* definitions follow it, the others do not; a definition with its own model keeps it', async () => {
    const defs = await loadDefinitions(fileURLToPath(new URL('../../../segments', import.meta.url)));
    assert.deepEqual(
      defs.filter(followsSharedModel).map((d) => d.id),
      ['rfm-at-risk', 'rfm-champions', 'rfm-hibernating', 'rfm-lost', 'rfm-loyal'],
    );
    const own = parseDefinition(
      'id: own\nversion: 1\nname: own\ndescription: d\ncondition: { rfm: { r: 5 }, model: { recency: [1d, 2d, 3d, 4d], frequency: [1, 2, 3, 4], monetary: {} } }\n',
      'own.yaml',
    );
    assert.equal(followsSharedModel(own), false);
    const population = model({ frequency: [2, 3, 4, 7] });
    const swapped = withRfmModel([...defs, own], population);
    const loyal = swapped.find((d) => d.id === 'rfm-loyal')!;
    // rfm-loyal: all [rfm, not rfm]: both leaves swapped
    const leaves = JSON.stringify(loyal.condition);
    assert.equal(leaves.split('"frequency":[2,3,4,7]').length - 1, 2);
    assert.equal(
      swapped.find((d) => d.id === 'own'),
      own,
    );
    assert.equal(
      swapped.find((d) => d.id === 'dormant'),
      defs.find((d) => d.id === 'dormant'),
    );
    // the loaded definitions are untouched
    assert.equal(JSON.stringify(defs.find((d) => d.id === 'rfm-loyal')!.condition).includes('[2,3,4,7]'), false);
  });
});
