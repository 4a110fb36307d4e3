// The dirt real upstream systems send: junk identifier values next to (or instead of) real ones, and records a
// consumer has to dead-letter (broken JSON, wrong types, unknown enum symbols, no event_id, no usable identifier).
import { isJunk, junkValue } from './identity.ts';
import type { Rng } from './prng.ts';
import { IDENTIFIER_FIELDS, MALFORMED_REASONS, type IdentifierField, type MalformedReason, type Topic, type TopicValue } from './types.ts';

type AnyValue = TopicValue[Topic];

/**
 * Puts a junk value into one identifier field of `value` (mutating it): alongside the real ones (a null field gets
 * junk) or instead of one real identifier, but never the last real one, so the event stays attributable.
 * Returns the field that now holds junk.
 */
export function addJunk(value: AnyValue, rng: Rng): IdentifierField {
  const real = IDENTIFIER_FIELDS.filter((f) => !isJunk(value[f]));
  const empty = IDENTIFIER_FIELDS.filter((f) => value[f] === null);
  const replace = real.length >= 2 && (empty.length === 0 || rng.chance(0.4));
  const field = replace ? rng.pick(real) : rng.pick(empty.length > 0 ? empty : IDENTIFIER_FIELDS.filter((f) => !real.includes(f)));
  value[field] = junkValue(field, rng);
  return field;
}

const REASON_WEIGHTS: readonly (readonly [MalformedReason, number])[] = MALFORMED_REASONS.map(
  (r) =>
    [
      r,
      {
        invalid_json: 25,
        wrong_type: 25,
        unknown_enum: 20,
        missing_event_id: 15,
        no_usable_identifier: 15,
      }[r],
    ] as const,
);

/** Turns a valid value into the raw line of a record that must be dead-lettered, and says why. */
export function corrupt(topic: Topic, value: AnyValue, rng: Rng): { raw: string; reason: MalformedReason } {
  const reason = rng.weighted(REASON_WEIGHTS);
  const obj: Record<string, unknown> = { ...value };
  switch (reason) {
    case 'invalid_json': {
      const json = JSON.stringify(obj);
      // a line cut short (a crashed writer) or with a stray trailing comma (a hand-rolled serializer)
      return rng.chance(0.5) ? { raw: json.slice(0, rng.int(1, json.length - 2)), reason } : { raw: `${json.slice(0, -1)},}`, reason };
    }
    case 'wrong_type':
      if (topic === 'purchases') obj[rng.chance(0.7) ? 'total_minor' : 'currency'] = rng.chance(0.7) ? 'abc' : 12.5;
      else if (topic === 'support-tickets') obj.satisfaction = rng.pick(['five', '4 stars']);
      else if (topic === 'loyalty') obj.points = rng.pick(['ten', '1,000']);
      else obj[rng.chance(0.5) ? 'device' : 'consent'] = rng.pick(['iPhone', 'yes', 42]);
      break;
    case 'unknown_enum':
      if (topic === 'purchases') {
        if (rng.chance(0.5)) obj.status = rng.pick(['shipped', 'COMPLETED', 'pending']);
        else obj.channel = rng.pick(['fax', 'kiosk']);
      } else if (topic === 'support-tickets') {
        if (rng.chance(0.5)) obj.status = rng.pick(['escalated', 'on_hold']);
        else obj.priority = rng.pick(['critical', 'P1']);
      } else if (topic === 'loyalty') {
        obj.type = rng.pick(['points_gifted', 'EARNED', 'upgraded']);
      } else {
        obj.type = rng.pick(['page_vieww', 'add_to_basket', 'PageView', 'wishlist_add']);
      }
      break;
    case 'missing_event_id':
      delete obj.event_id;
      break;
    case 'no_usable_identifier':
      for (const f of IDENTIFIER_FIELDS) obj[f] = rng.chance(0.5) ? junkValue(f, rng) : null;
      if (IDENTIFIER_FIELDS.every((f) => obj[f] === null)) obj.user_id = junkValue('user_id', rng);
      break;
  }
  return { raw: JSON.stringify(obj), reason };
}
