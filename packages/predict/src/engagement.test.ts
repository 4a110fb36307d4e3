import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { bestOption, engagementPrior, PRIOR_STRENGTH, shares } from './engagement.ts';

// A population that engages mostly on the web, some by e-mail, little in store.
const POP = { web: 0.7, email: 0.2, store: 0.1 };

describe('best option by empirical-Bayes shrinkage', () => {
  it('no evidence: the population best', () => {
    assert.deepEqual(bestOption(undefined, POP, PRIOR_STRENGTH), { key: 'web', rate: 0.7 });
    assert.deepEqual(bestOption({}, POP, PRIOR_STRENGTH), { key: 'web', rate: 0.7 });
  });

  it('a single e-mail open does not outweigh the population: web, with the shrunk rates (k + m·p)/(n + m)', () => {
    const best = bestOption({ email: 1 }, POP, 10);
    assert.equal(best?.key, 'web');
    assert.ok(Math.abs((best?.rate ?? 0) - (0 + 10 * 0.7) / 11) < 1e-12);
  });

  it('strong evidence wins: ten e-mail events and nothing else make e-mail best', () => {
    // email (10 + 2)/20 = 0.6 > web 7/20 = 0.35
    assert.equal(bestOption({ email: 10 }, POP, 10)?.key, 'email');
    // the crossover: email k vs web with n = k: (k + 2)/(k + 10) > 7/(k + 10) ⇔ k > 5
    assert.equal(bestOption({ email: 5 }, POP, 10)?.key, 'web');
    assert.equal(bestOption({ email: 6 }, POP, 10)?.key, 'email');
  });

  it('a weaker prior lets less evidence win; m = 0 is the raw share', () => {
    assert.equal(bestOption({ email: 1 }, POP, 1)?.key, 'email'); // email (1 + .2)/2 = .6 > web .7/2 = .35
    assert.deepEqual(bestOption({ email: 1, store: 3 }, POP, 0), { key: 'store', rate: 0.75 });
  });

  it('excluded options (withdrawn consent) are never chosen, whatever the evidence', () => {
    assert.equal(bestOption({ email: 100 }, POP, 10, new Set(['email']))?.key, 'web');
  });

  it("an option only the customer has (not in the population) can win on evidence; ties go to the population's larger share", () => {
    assert.equal(bestOption({ sms: 50 }, POP, 10)?.key, 'sms');
    assert.equal(bestOption({}, { a: 0.5, b: 0.5 }, 10)?.key, 'a');
    assert.equal(bestOption({ b: 1, a: 1 }, { a: 0.5, b: 0.5 }, 10)?.key, 'a');
  });

  it('nothing to choose: null, never NaN', () => {
    assert.equal(bestOption({}, {}, 10), null);
    assert.equal(bestOption({}, {}, 0), null);
    assert.equal(bestOption({ web: 0 }, {}, 10), null);
  });
});

describe('the population prior', () => {
  it('shares sum to 1 and drop zero counts', () => {
    assert.deepEqual(shares({ a: 3, b: 1, c: 0 }), { a: 0.75, b: 0.25 });
    assert.deepEqual(shares({}), {});
    const prior = engagementPrior({ web: 6, email: 2 }, { '0': 4, '167': 4 });
    assert.deepEqual(prior, { channels: { web: 0.75, email: 0.25 }, hours: { '0': 0.5, '167': 0.5 }, events: 8, prior_strength: PRIOR_STRENGTH });
  });
});
