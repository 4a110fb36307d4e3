/**
 * The paper test: Fader, Hardie & Lee (2005) fit BG/NBD to the CDNOW sample (2,357 customers, weeks 1–39) and report
 * r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4; the Gamma-Gamma fit of the same sample's 946 repeat buyers
 * (FHL 2005b; Fader & Hardie 2013 note) is p = 6.25, q = 3.74, γ = 15.44, LL = −4055.92. From the raw transactions, not
 * from a summary. Writes the holdout table (weeks 40–78 by calibration frequency) and its figure to
 * .data/artifacts/predict/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { fitBgNbd } from './fit.ts';
import { fitGammaGamma } from './gammagamma.ts';
import { holdoutMarkdown, holdoutTable } from './holdout.ts';
import { holdoutPlot } from './plot.ts';
import { cdnowCustomers, HOLDOUT_WEEKS } from './testing/cdnow.ts';

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const SAMPLE = resolve(ROOT, '../shared/data/cdnow_sample.txt.gz');
const OUT = join(ROOT, '.data/artifacts/predict');
const sig3 = (v: number): number => Number(v.toPrecision(3));

describe('CDNOW sample (FHL 2005)', () => {
  const customers = cdnowCustomers(SAMPLE);

  it('has the paper’s calibration data: 2,357 customers, 2,457 repeat purchases, 1,411 without one', () => {
    assert.equal(customers.length, 2357);
    assert.equal(
      customers.reduce((s, c) => s + c.x, 0),
      2457,
    );
    assert.equal(customers.filter((c) => c.x === 0).length, 1411);
  });

  it('BG/NBD: r, α, a, b to three significant figures and LL −9582.4; holdout expectations within 3 standard errors', () => {
    const fit = fitBgNbd(customers);
    const { r, alpha, a, b } = fit.params;
    assert.deepEqual([sig3(r), sig3(alpha), sig3(a), sig3(b)], [sig3(0.243), sig3(4.414), sig3(0.793), sig3(2.426)], JSON.stringify(fit.params));
    assert.equal(fit.logLikelihood.toFixed(1), '-9582.4');

    const rows = holdoutTable(fit.params, customers, HOLDOUT_WEEKS);
    mkdirSync(OUT, { recursive: true });
    const params = `r = ${r.toFixed(4)}, α = ${alpha.toFixed(4)}, a = ${a.toFixed(4)}, b = ${b.toFixed(4)}, LL = ${fit.logLikelihood.toFixed(2)}`;
    writeFileSync(
      join(OUT, 'cdnow-holdout.md'),
      `# CDNOW sample, BG/NBD (${params})\n\nMean purchases in weeks 40–78 by purchases in weeks 1–39:\n\n${holdoutMarkdown(rows)}\n`,
    );
    writeFileSync(join(OUT, 'cdnow-holdout.json'), `${JSON.stringify({ params: fit.params, logLikelihood: fit.logLikelihood, rows }, null, 2)}\n`);
    writeFileSync(join(OUT, 'cdnow-holdout.png'), holdoutPlot(rows, 'CDNOW WEEKS 40-78', 'PURCHASES IN WEEKS 1-39', 'PURCHASES IN WEEKS 40-78 (MEAN)'));

    assert.deepEqual(
      rows.map((row) => row.customers),
      [1411, 439, 214, 100, 62, 38, 29, 64],
    );
    for (const row of rows) {
      // The actual mean is a sample mean; the model's expectation should sit within its sampling error.
      assert.ok(
        Math.abs(row.expected - row.actual) <= 3 * row.actualStdError,
        `frequency ${row.frequency}: expected ${row.expected}, actual ${row.actual} ± ${row.actualStdError}`,
      );
    }
  });

  it('Gamma-Gamma on the 946 repeat buyers: p, q, γ to three significant figures and LL −4055.92', () => {
    const fit = fitGammaGamma(customers.filter((c) => c.x > 0).map((c) => ({ x: c.x, mx: c.zbar })));
    assert.equal(fit.customers, 946);
    const { p, q, gamma } = fit.params;
    assert.deepEqual([sig3(p), sig3(q), sig3(gamma)], [6.25, 3.74, 15.4], JSON.stringify(fit.params));
    assert.equal(fit.logLikelihood.toFixed(2), '-4055.92');
    mkdirSync(OUT, { recursive: true });
    writeFileSync(
      join(OUT, 'cdnow-gamma-gamma.json'),
      `${JSON.stringify({ params: fit.params, logLikelihood: fit.logLikelihood, customers: fit.customers }, null, 2)}\n`,
    );
  });
});
