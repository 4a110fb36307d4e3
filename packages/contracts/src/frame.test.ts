// frameAvro writes the same bytes as the registry client's encode (magic byte, schema id, avsc's toBuffer), for values
// below and far above avsc's 1 KiB buffer, one after another on its shared buffer; what avsc refuses it refuses.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { test } from 'vitest';
import { avroType } from './avro.ts';
import { ProfileChangedSchema, SegmentMembershipChangedSchema } from './generated/index.ts';
import { frameAvro } from './registry.ts';

const client = (type: ReturnType<typeof avroType>, id: number, value: unknown) => {
  const header = Buffer.alloc(5);
  header.writeInt32BE(id, 1);
  return Buffer.concat([header, type.toBuffer(value)]);
};

const change = fc.record({
  event_id: fc.string(),
  profile_id: fc.string(),
  profile_version: fc.integer({ min: 0 }),
  cause: fc.constantFrom('event', 'merge', 'tick', 'erase'),
  trigger_event_id: fc.option(fc.string()),
  source_topic: fc.option(fc.string()),
  changed_sections: fc.array(fc.string(), { maxLength: 8 }),
  occurred_at: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  emitted_at: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  // up to ~300 KiB: past the shared buffer's first size, so it grows mid-run
  profile_json: fc.option(
    fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 2000 }),
      fc.nat(300_000).map((n) => 'x'.repeat(n)),
    ),
  ),
});

test('frameAvro = the registry client encode, small and large values in any order', () => {
  const type = avroType(ProfileChangedSchema);
  fc.assert(
    fc.property(fc.array(fc.tuple(change, fc.integer({ min: 1, max: 2 ** 31 - 1 })), { minLength: 1, maxLength: 6 }), (values) => {
      const framed = values.map(([v, id]) => frameAvro(type, id, v));
      // each result is its own copy: later writes to the shared buffer leave it alone
      for (const [i, [v, id]] of values.entries()) assert.deepEqual(framed[i], client(type, id, v));
    }),
    { numRuns: 200 },
  );
});

test('frameAvro refuses what avsc refuses, leaving the next value intact', () => {
  const type = avroType(SegmentMembershipChangedSchema);
  assert.throws(() => frameAvro(type, 7, { event_id: 1 }));
  const ok = {
    event_id: 'e',
    profile_id: 'p',
    segment_id: 's',
    segment_version: 1,
    change: 'entered',
    reason: 'rule_matched',
    membership_version: 1,
    occurred_at: 1,
    emitted_at: 2,
    trigger_event_id: null,
    traits: { a: 'b' },
    entity: 'profile',
  };
  assert.deepEqual(frameAvro(type, 7, ok), client(type, 7, ok));
});
