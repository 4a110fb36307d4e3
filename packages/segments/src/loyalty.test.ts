// Timeline tests of the loyalty segments (segments/loyalty-tier.yaml, points-expiring.yaml, lapsed-member.yaml) on a
// fake clock, on real folded profiles; the for_each expansion of a parameterised definition; the within_next operator.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, it } from 'vitest';
import { DEFAULT_LOYALTY_TIERS } from '@profile-stream/contracts';
import { expandForEach, parseDefinitions } from './definition.ts';
import type { SegmentDefinition } from './definition.ts';
import { SegmentDefinitionError } from './errors.ts';
import { loadDefinitions } from './load.ts';
import { D, T0, loyalty } from './testing/events.ts';
import { runTimeline } from './testing/timeline.ts';

const DIR = fileURLToPath(new URL('../../../segments', import.meta.url));
const TIERS = ['loyalty-bronze', 'loyalty-silver', 'loyalty-gold', 'loyalty-platinum'];

describe('loyalty segments', () => {
  let defs: SegmentDefinition[] = [];
  beforeAll(async () => {
    defs = await loadDefinitions(DIR);
  });

  it('loyalty-<tier>: one segment per default tier; the list is replaced by LOYALTY_TIERS (load option `each`)', async () => {
    assert.deepEqual(
      defs.filter((d) => d.id.startsWith('loyalty-')).map((d) => d.id),
      DEFAULT_LOYALTY_TIERS.map((t) => `loyalty-${t}`).sort(),
    );
    assert.equal(defs.find((d) => d.id === 'loyalty-gold')!.name, 'Loyalty gold member');
    const custom = await loadDefinitions(DIR, { each: { tier: ['blue', 'black'] } });
    assert.deepEqual(
      custom.filter((d) => d.id.startsWith('loyalty-')).map((d) => d.id),
      ['loyalty-black', 'loyalty-blue'],
    );
  });

  it('loyalty-<tier>: enters on enrolment, moves with tier changes (last writer by event time), leaves on leaving', () => {
    runTimeline(defs, TIERS, [
      { at: T0, members: [] },
      { at: T0 + D, events: [loyalty(T0 + D, 'enrolled', { tier: 'bronze' })], members: ['loyalty-bronze'], next: { 'loyalty-bronze': null } },
      { at: T0 + 30 * D, events: [loyalty(T0 + 30 * D, 'tier_changed', { tier: 'gold' })], members: ['loyalty-gold'] },
      { at: T0 + 31 * D, events: [loyalty(T0 + 20 * D, 'tier_changed', { tier: 'silver' })], members: ['loyalty-gold'], note: 'a late, older change loses' },
      { at: T0 + 40 * D, events: [loyalty(T0 + 40 * D, 'left')], members: [] },
      { at: T0 + 50 * D, events: [loyalty(T0 + 50 * D, 'enrolled', { tier: 'platinum' })], members: ['loyalty-platinum'], note: 're-enrolled' },
    ]);
  });

  it('points-expiring: enters at expiry − 30 d exactly, leaves at the expiry, or when the lot is used up', () => {
    const exp1 = T0 + 100 * D;
    const exp2 = T0 + 200 * D;
    runTimeline(
      defs,
      ['points-expiring'],
      [
        { at: T0, events: [loyalty(T0, 'points_earned', { points: 100, expires_at: exp1 })], members: [], next: { 'points-expiring': exp1 - 30 * D } },
        { at: exp1 - 30 * D - 1, members: [] },
        { at: exp1 - 30 * D, members: ['points-expiring'], next: { 'points-expiring': exp1 } },
        {
          at: exp1 - 10 * D,
          events: [loyalty(exp1 - 10 * D, 'points_earned', { points: 50, expires_at: exp2 }), loyalty(exp1 - 10 * D, 'points_redeemed', { points: 100 })],
          members: [],
          next: { 'points-expiring': exp2 - 30 * D },
          note: 'the redemption used up the first lot: the next expiry is the second',
        },
        { at: exp2 - 30 * D, members: ['points-expiring'], next: { 'points-expiring': exp2 } },
        { at: exp2, members: [], next: { 'points-expiring': null }, note: 'expired (no points_expired event needed to leave)' },
      ],
    );
  });

  it('points-expiring: not while the balance is 0 or negative (a redemption ahead of its earn)', () => {
    const exp = T0 + 20 * D;
    runTimeline(
      defs,
      ['points-expiring'],
      [
        { at: T0, events: [loyalty(T0, 'points_redeemed', { points: 80 })], members: [] },
        { at: T0 + D, events: [loyalty(T0 - D, 'points_earned', { points: 80, expires_at: exp })], members: [], note: 'balance 0' },
        { at: T0 + 2 * D, events: [loyalty(T0 + 2 * D, 'points_earned', { points: 5, expires_at: exp })], members: ['points-expiring'] },
      ],
    );
  });

  it('lapsed-member: enrolled, 180 d after the latest enrolment / earn / redemption exactly; an earn brings it back', () => {
    runTimeline(
      defs,
      ['lapsed-member'],
      [
        { at: T0, events: [loyalty(T0, 'enrolled', { tier: 'bronze' })], members: [], next: { 'lapsed-member': T0 + 180 * D } },
        { at: T0 + 10 * D, events: [loyalty(T0 + 10 * D, 'points_earned', { points: 10 })], members: [], next: { 'lapsed-member': T0 + 190 * D } },
        { at: T0 + 190 * D - 1, members: [] },
        { at: T0 + 190 * D, members: ['lapsed-member'], next: { 'lapsed-member': null } },
        { at: T0 + 200 * D, events: [loyalty(T0 + 200 * D, 'points_redeemed', { points: 5 })], members: [], next: { 'lapsed-member': T0 + 380 * D } },
        { at: T0 + 201 * D, events: [loyalty(T0 + 201 * D, 'tier_changed', { tier: 'silver' })], members: [], note: 'a tier change is not activity' },
        { at: T0 + 380 * D, members: ['lapsed-member'] },
        { at: T0 + 381 * D, events: [loyalty(T0 + 381 * D, 'left')], members: [], note: 'left the programme' },
      ],
    );
  });
});

describe('for_each', () => {
  it('expands id, name, description and the parameter; a file without it is one definition', () => {
    const value = { id: 'x-$t', name: 'X $t', description: 'about $t', for_each: { t: ['a', 'b'] }, params: { k: 1 }, condition: {} };
    assert.deepEqual(
      expandForEach(value).map((v) => (v as { id: string }).id),
      ['x-a', 'x-b'],
    );
    assert.deepEqual((expandForEach(value)[1] as { params: unknown }).params, { k: 1, t: 'b' });
    assert.deepEqual(expandForEach({ id: 'y' }), [{ id: 'y' }]);
  });

  it('a malformed for_each is reported naming the key', () => {
    const yaml = 'id: x\nversion: 1\nname: X\ndescription: d\nfor_each: { a: 1 }\ncondition: { field: loyalty.tier, eq: gold }\n';
    assert.throws(
      () => parseDefinitions(yaml, 'x.yaml'),
      (err: unknown) => err instanceof SegmentDefinitionError && err.issues.some((i) => /for_each/.test(i.message + i.path)),
    );
  });
});
