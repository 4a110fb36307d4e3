import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { type BgNbdParams, expectedPurchases, expectedPurchasesNew, medianTimeToNextPurchase, probabilityAlive } from './bgnbd.ts';
import { fitBgNbd } from './fit.ts';
import { expectedOrderValue, fitGammaGamma } from './gammagamma.ts';
import { holdoutTable } from './holdout.ts';
import { Raster } from './png.ts';
import { type PredictModel, scoreCustomer } from './score.ts';
import { simulateCustomers } from './simulate.ts';

const PAPER: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const failsWith = (code: string, message: RegExp) => (e: unknown) => (e as { code?: string }).code === code && message.test((e as Error).message);

describe('BG/NBD', () => {
  it('P(alive) is 1 without repeat purchases and falls with the time since the last one', () => {
    assert.equal(probabilityAlive(PAPER, { x: 0, tx: 0, T: 30 }), 1);
    let previous = 1;
    for (const tx of [30, 25, 15, 5, 1]) {
      const p = probabilityAlive(PAPER, { x: 3, tx, T: 30 });
      assert.ok(p < previous && p > 0, `t_x=${tx}: ${p}`);
      previous = p;
    }
  });

  it("a new customer's expected purchases match a simulation of the model (E[X(t)], FHL eq. 9)", () => {
    const t = 39;
    const sim = simulateCustomers(PAPER, { customers: 200_000, minT: 0, maxT: 0, holdout: t, seed: 11 });
    const mean = sim.reduce((s, c) => s + c.holdout, 0) / sim.length;
    const sd = Math.sqrt(sim.reduce((s, c) => s + (c.holdout - mean) ** 2, 0) / (sim.length - 1));
    const expected = expectedPurchasesNew(PAPER, t);
    assert.ok(Math.abs(expected - mean) < 4 * (sd / Math.sqrt(sim.length)), `E[X(39)] ${expected} vs simulated ${mean} ± ${sd / Math.sqrt(sim.length)}`);
  });

  it('the conditional expectation E[Y(t) | x, t_x, T] (FHL eq. 10) matches a simulation of the model, by calibration frequency', () => {
    const sim = simulateCustomers(PAPER, { customers: 100_000, minT: 27, maxT: 39, holdout: 39, seed: 5 });
    for (const row of holdoutTable(PAPER, sim, 39)) {
      assert.ok(
        Math.abs(row.expected - row.actual) < 4 * row.actualStdError,
        `x=${row.frequency}: expected ${row.expected}, simulated ${row.actual} ± ${row.actualStdError}`,
      );
    }
  });

  it('the conditional expectation is continuous through a = 1 (where its formula is 0/0)', () => {
    const c = { x: 4, tx: 20, T: 35 };
    const at = (a: number) => expectedPurchases({ ...PAPER, a }, c, 52);
    const mid = at(1);
    assert.ok(Number.isFinite(mid) && mid > 0);
    assert.ok(Math.abs(mid - (at(0.999) + at(1.001)) / 2) < 1e-4, `${at(0.999)} ${mid} ${at(1.001)}`);
  });

  it('the median wait for the next purchase of a live customer is the Lomax median (α+T)(2^(1/(r+x)) − 1)', () => {
    const w = medianTimeToNextPurchase(PAPER, { x: 2, tx: 10, T: 20 });
    // P(W > w) = ((α+T)/(α+T+w))^(r+x) = ½ at the median.
    assert.ok(Math.abs(((PAPER.alpha + 20) / (PAPER.alpha + 20 + w)) ** (PAPER.r + 2) - 0.5) < 1e-12);
  });

  it('the fit recovers the parameters of simulated customers', () => {
    const truth = { r: 0.8, alpha: 12, a: 0.6, b: 3.5 };
    const fit = fitBgNbd(simulateCustomers(truth, { customers: 30_000, minT: 20, maxT: 80, seed: 3 }));
    for (const k of ['r', 'alpha', 'a', 'b'] as const) {
      assert.ok(Math.abs(fit.params[k] / truth[k] - 1) < 0.15, `${k}: fitted ${fit.params[k]}, true ${truth[k]}`);
    }
  });

  it('refuses what it cannot fit, saying why: too few customers, nobody bought twice, no convergence, no finite maximum', () => {
    const some = simulateCustomers(PAPER, { customers: 500, minT: 27, maxT: 39, seed: 5 });
    assert.throws(() => fitBgNbd(some.slice(0, 5)), failsWith('model_fit_failed', /5 customers, at least 20 are needed/));
    assert.throws(() => fitBgNbd(some.map((c) => ({ x: 0, tx: 0, T: c.T }))), failsWith('model_fit_failed', /none of the 500 customers bought more than once/));
    assert.throws(() => fitBgNbd(some, { maxEvaluations: 30 }), failsWith('model_fit_failed', /did not converge in 3\d evaluations/));
    // Everyone buys every day and nobody ever drops out: p → 0 and λ's spread → 0, the likelihood climbs to a boundary.
    const clockwork = Array.from({ length: 200 }, (_, i) => ({ x: 30 + (i % 20), tx: 30 + (i % 20), T: 30 + (i % 20) }));
    assert.throws(() => fitBgNbd(clockwork), failsWith('model_fit_failed', /no finite maximum/));
    assert.throws(() => fitBgNbd([{ x: 1, tx: 5, T: 3 }, ...some]), failsWith('invalid_options', /customer 0: expected an integer x ≥ 0 and 0 ≤ t_x ≤ T/));
  });
});

describe('Gamma-Gamma', () => {
  it('recovers simulated spend parameters; the expected order value moves from the population mean toward m_x with x', () => {
    const spend = { p: 4, q: 5, gamma: 60 };
    const sim = simulateCustomers({ r: 2, alpha: 10, a: 0.5, b: 3 }, { customers: 30_000, minT: 30, maxT: 60, spend, seed: 9 });
    const fit = fitGammaGamma(sim.filter((c) => c.x > 0).map((c) => ({ x: c.x, mx: c.mx })));
    for (const k of ['p', 'q', 'gamma'] as const) assert.ok(Math.abs(fit.params[k] / spend[k] - 1) < 0.2, `${k}: fitted ${fit.params[k]}, true ${spend[k]}`);
    const population = (spend.p * spend.gamma) / (spend.q - 1);
    assert.equal(expectedOrderValue(spend, 0, 0), population);
    const few = expectedOrderValue(spend, 1, 200);
    const many = expectedOrderValue(spend, 50, 200);
    assert.ok(population < few && few < many && many < 200, `${population} < ${few} < ${many} < 200`);
  });

  it('refuses too few repeat buyers and spend with no spread', () => {
    assert.throws(() => fitGammaGamma([{ x: 2, mx: 10 }]), failsWith('model_fit_failed', /1 customers with a repeat purchase of positive value, at least 20/));
    const same = Array.from({ length: 100 }, (_, i) => ({ x: 1 + (i % 5), mx: 25 }));
    assert.throws(() => fitGammaGamma(same), failsWith('model_fit_failed', /Gamma-Gamma fit: /));
  });
});

const MODEL: PredictModel = {
  version: 3,
  fitted_at: '2026-01-01T00:00:00.000Z',
  unit_days: 7,
  bgnbd: { params: PAPER, log_likelihood: -9582.4, customers: 2357 },
  gamma_gamma: { params: { p: 6.25, q: 3.74, gamma: 15.44 }, log_likelihood: -4055.9, customers: 946, currency: 'USD' },
  clv: { horizon_days: 365, annual_discount_rate: 0.1 },
};

describe('scoreCustomer', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const params = fc.record({
    r: fc.double({ min: 0.01, max: 50, noNaN: true }),
    alpha: fc.double({ min: 0.01, max: 500, noNaN: true }),
    a: fc.double({ min: 0.01, max: 50, noNaN: true }),
    b: fc.double({ min: 0.01, max: 50, noNaN: true }),
  });
  const customer = fc
    .tuple(fc.integer({ min: 0, max: 2000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 3000, noNaN: true }))
    .map(([x, share, T]) => ({ x, tx_days: x === 0 ? 0 : share * T, T_days: T }));

  test.prop([params, customer, fc.constantFrom(1, 7), fc.option(fc.double({ min: 1, max: 1e7, noNaN: true }), { nil: null })], { numRuns: 300 })(
    'never gives NaN or Infinity: P(alive) in [0, 1], expectations growing with the horizon, a valid date',
    (p, c, unitDays, mean) => {
      const out = scoreCustomer(
        { ...MODEL, unit_days: unitDays, bgnbd: { ...MODEL.bgnbd, params: p } },
        { ...c, mean_order_minor: mean, currency: 'USD' },
        now,
      );
      const numbers = [
        out.p_alive,
        out.expected_purchases.d30,
        out.expected_purchases.d90,
        out.expected_purchases.d365,
        out.expected_order_minor,
        out.clv_minor,
      ];
      for (const v of numbers) assert.ok(v === null || Number.isFinite(v), JSON.stringify(out));
      assert.ok(out.p_alive >= 0 && out.p_alive <= 1);
      const e = out.expected_purchases;
      assert.ok(0 <= e.d30 && e.d30 <= e.d90 + 1e-9 && e.d90 <= e.d365 + 1e-9, JSON.stringify(e));
      assert.ok(out.next_purchase_at === null || Date.parse(out.next_purchase_at) >= now.getTime());
    },
  );

  it('values orders only in the model currency; CLV is the discounted sum of expected orders × their value', () => {
    const c = { x: 3, tx_days: 150, T_days: 200, mean_order_minor: 4000 };
    const usd = scoreCustomer(MODEL, { ...c, currency: 'USD' }, now);
    const eur = scoreCustomer(MODEL, { ...c, currency: 'EUR' }, now);
    assert.equal(eur.clv_minor, null);
    assert.equal(eur.expected_order_minor, null);
    assert.equal(usd.currency, 'USD');
    assert.ok(usd.clv_minor !== null && usd.expected_order_minor !== null);
    // Undiscounted, a year's CLV is E[order] × E[Y(365 d)]; discounting takes a little off.
    const undiscounted = scoreCustomer({ ...MODEL, clv: { horizon_days: 365, annual_discount_rate: 0 } }, { ...c, currency: 'USD' }, now);
    assert.ok(Math.abs((undiscounted.clv_minor as number) - usd.expected_order_minor * usd.expected_purchases.d365) <= 1);
    assert.ok((usd.clv_minor as number) < (undiscounted.clv_minor as number));
    assert.equal(usd.model_version, 3);
  });
});

describe('Raster', () => {
  it('encodes a PNG a decoder can read back: signature, IHDR, IDAT rows with filter 0', () => {
    const img = new Raster(4, 3);
    img.set(1, 2, [255, 0, 0]);
    const png = img.png();
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(png.toString('ascii', 12, 16), 'IHDR');
    assert.equal(png.readUInt32BE(16), 4);
    assert.equal(png.readUInt32BE(20), 3);
    const idatAt = png.indexOf('IDAT');
    const raw = inflateSync(png.subarray(idatAt + 4, idatAt + 4 + png.readUInt32BE(idatAt - 4)));
    assert.equal(raw.length, 3 * (4 * 3 + 1));
    assert.deepEqual([...raw.subarray(2 * 13 + 1 + 3, 2 * 13 + 1 + 6)], [255, 0, 0]);
  });
});
