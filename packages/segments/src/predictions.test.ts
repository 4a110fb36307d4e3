// The two segments on predictions (segments/likely-to-churn.yaml, high-clv.yaml) on real folded profiles with a
// `predictions` section as `profile-stream predict score` writes it; a later scoring replaces an earlier one.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, it } from 'vitest';
import { foldEvents, join, predictionsFragment, type PredictionsValue, type ProfileDoc, profileView } from '@profile-stream/profile';
import type { SegmentDefinition } from './definition.ts';
import { evaluate } from './evaluate.ts';
import { loadDefinitions } from './load.ts';
import { D, T0, purchase } from './testing/events.ts';

const DIR = fileURLToPath(new URL('../../../segments', import.meta.url));
const SCORED = T0 + 400 * D;
const scores = (over: Partial<PredictionsValue>): PredictionsValue => ({
  model_version: 1,
  p_alive: 0.9,
  purchases_30d: 0.1,
  purchases_90d: 0.3,
  purchases_365d: 1.2,
  currency: 'GBP',
  order_value_minor: 4000,
  clv_minor: 4500,
  ...over,
});
const viewWith = (doc: ProfileDoc) => profileView(doc, { profile_id: 'p_test', merged_ids: [] });
const twice = () => foldEvents([purchase(T0, 'o1'), purchase(T0 + 30 * D, 'o2')]);
const once = () => foldEvents([purchase(T0, 'o1')]);

describe('segments on predictions', () => {
  let defs: Map<string, SegmentDefinition>;
  beforeAll(async () => {
    defs = new Map((await loadDefinitions(DIR)).map((d) => [d.id, d]));
  });
  const member = (id: string, doc: ProfileDoc) => evaluate(defs.get(id) as SegmentDefinition, viewWith(doc), SCORED + 1).member;

  it('likely-to-churn: a repeat buyer whose P(alive) is below 0.3; never a one-time buyer or an unscored profile', () => {
    assert.equal(member('likely-to-churn', join(twice(), predictionsFragment(scores({ p_alive: 0.12 }), SCORED, 'run-1'))), true);
    assert.equal(member('likely-to-churn', join(twice(), predictionsFragment(scores({ p_alive: 0.3 }), SCORED, 'run-1'))), false);
    assert.equal(member('likely-to-churn', join(once(), predictionsFragment(scores({ p_alive: 0.1 }), SCORED, 'run-1'))), false);
    assert.equal(member('likely-to-churn', twice()), false);
  });

  it('high-clv: CLV at or above 20,000 minor units; a profile without a CLV (another currency) never', () => {
    assert.equal(member('high-clv', join(twice(), predictionsFragment(scores({ clv_minor: 20_000 }), SCORED, 'run-1'))), true);
    assert.equal(member('high-clv', join(twice(), predictionsFragment(scores({ clv_minor: 19_999 }), SCORED, 'run-1'))), false);
    const { clv_minor: _, ...noValue } = scores({ currency: 'EUR' });
    assert.equal(member('high-clv', join(twice(), predictionsFragment(noValue, SCORED, 'run-1'))), false);
  });

  it('the later scoring wins whatever order the two arrive in (last-writer-wins by scoring time)', () => {
    const early = predictionsFragment(scores({ p_alive: 0.1, clv_minor: 90_000 }), SCORED, 'run-1');
    const late = predictionsFragment(scores({ p_alive: 0.8, clv_minor: 1_000, model_version: 2 }), SCORED + D, 'run-2');
    for (const doc of [join(join(twice(), early), late), join(join(twice(), late), early)]) {
      const view = viewWith(doc) as { predictions: { p_alive: number; model_version: number; scored_at: string } };
      assert.deepEqual([view.predictions.p_alive, view.predictions.model_version, view.predictions.scored_at], [0.8, 2, new Date(SCORED + D).toISOString()]);
      assert.equal(member('likely-to-churn', doc), false);
      assert.equal(member('high-clv', doc), false);
    }
  });
});
