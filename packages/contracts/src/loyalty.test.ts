import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { avroType } from './avro.ts';
import { LoyaltyEventSchema, LoyaltyEventTypeValues } from './generated/index.ts';
import { fromPlainJson, toPlainJson } from './json.ts';
import { resolveTopics } from './topics.ts';

const earned = {
  event_id: 'l1',
  occurred_at: '2024-05-01T12:00:00.000Z',
  anonymous_id: null,
  user_id: 'u1',
  email: null,
  phone: null,
  member_id: 'M-1',
  type: 'points_earned',
  points: 120,
  tier: null,
  reason: 'order',
  order_id: 'o1',
  expires_at: '2025-05-01T00:00:00.000Z',
};

describe('LoyaltyEvent contract', () => {
  it('is the value of the loyalty input topic, with a DLQ', () => {
    const t = resolveTopics().loyalty;
    assert.equal(t.schema, LoyaltyEventSchema);
    assert.equal(t.subject, 'loyalty-value');
    assert.equal(t.dlq, 'loyalty.dlq');
    assert.deepEqual([...LoyaltyEventTypeValues], ['enrolled', 'points_earned', 'points_redeemed', 'points_expired', 'tier_changed', 'left']);
  });

  it('round-trips through Avro bytes, optional fields defaulting to null', () => {
    const value = fromPlainJson(LoyaltyEventSchema, earned);
    assert.deepEqual(toPlainJson(LoyaltyEventSchema, avroType(LoyaltyEventSchema).fromBuffer(avroType(LoyaltyEventSchema).toBuffer(value))), earned);
    const minimal = fromPlainJson(LoyaltyEventSchema, { event_id: 'l2', occurred_at: 1, user_id: 'u1', member_id: 'M-1', type: 'left' });
    assert.equal(minimal.points, null);
    assert.equal(minimal.expires_at, null);
  });

  it('refuses an unknown type naming the field', () => {
    assert.throws(() => fromPlainJson(LoyaltyEventSchema, { ...earned, type: 'gifted' }), { code: 'invalid_event', path: 'type' });
  });
});
