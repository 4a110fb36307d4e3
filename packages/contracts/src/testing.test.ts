// The test builders make events the schema accepts (every field present, nulls where optional), and what a test
// names wins over the defaults.
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { avroType } from './avro.ts';
import { ClickEventSchema } from './generated/ClickEvent.ts';
import { clickEvent } from './testing.ts';

test('clickEvent: a valid page view with no identifier by default; the fields given replace the defaults', () => {
  const type = avroType(ClickEventSchema);
  const blank = clickEvent({ event_id: 'e1', occurred_at: 1 });
  assert.ok(type.isValid(blank), 'a blank click event is valid Avro');
  assert.deepEqual(
    { ...type.fromBuffer(type.toBuffer(blank)) },
    blank,
    'every field is present: the round trip changes nothing (isValid alone lets a missing defaulted field pass)',
  );
  assert.deepEqual([blank.type, blank.user_id, blank.page, blank.account], ['page_view', null, null, null]);
  const login = clickEvent({ event_id: 'e2', occurred_at: 2, type: 'login', user_id: 'u1', country: 'GB' });
  assert.ok(type.isValid(login));
  assert.deepEqual([login.event_id, login.type, login.user_id, login.country, login.email], ['e2', 'login', 'u1', 'GB', null]);
});
