import assert from 'node:assert/strict';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { CountryCode } from 'libphonenumber-js';
import { describe, it } from 'vitest';
import { ProfileError } from './errors.ts';
import { DEFAULT_JUNK_BLOCKLIST, normaliseIdentifiers, normalisePhone, PHONE_MEMO_SIZE } from './normalise.ts';
import type { IdentifierFields } from './normalise.ts';

const GB = { defaultRegion: 'GB', blocklist: new Set<string>() };
const ids = (over: Partial<IdentifierFields>): IdentifierFields => ({ anonymous_id: null, user_id: null, email: null, phone: null, ...over });

describe('normaliseIdentifiers', () => {
  it('trims and lower-cases emails', () => {
    for (const v of ['alice@example.com', ' Alice@Example.COM', 'ALICE@EXAMPLE.COM  ', '\tAlice@example.Com\n']) {
      assert.deepEqual(normaliseIdentifiers(ids({ email: v }), GB), { email: 'alice@example.com', dropped: [] }, v);
    }
  });

  it('rejects values that do not look like an e-mail', () => {
    for (const v of ['alice', 'alice@', '@example.com', 'alice@example', 'a b@example.com', 'alice@@example.com', 'alice@example.c']) {
      assert.deepEqual(normaliseIdentifiers(ids({ email: v }), GB).dropped, [{ field: 'email', value_kind: 'malformed', reason: 'invalid_email' }], v);
    }
  });

  it('normalises GB phone spellings to E.164 with the default region', () => {
    for (const v of ['+44 7700 900123', '07700 900123', '(0)7700-900123', '+44 (0)7700-900123', '0044 7700 900123', '+447700900123']) {
      assert.deepEqual(normaliseIdentifiers(ids({ phone: v }), GB), { phone: '+447700900123', dropped: [] }, v);
    }
  });

  it('reads national spellings in the configured region and keeps international ones', () => {
    assert.equal(normaliseIdentifiers(ids({ phone: '(202) 555-0143' }), { ...GB, defaultRegion: 'US' }).phone, '+12025550143');
    assert.equal(normaliseIdentifiers(ids({ phone: '+49 30 123456' }), GB).phone, '+4930123456');
  });

  it('drops phones that are not possible numbers', () => {
    for (const v of ['12345', 'call me', '+44 12', '07700 900123 999 999']) {
      assert.deepEqual(normaliseIdentifiers(ids({ phone: v }), GB).dropped, [{ field: 'phone', value_kind: 'malformed', reason: 'invalid_phone' }], v);
    }
  });

  it('trims user and anonymous ids and keeps their case', () => {
    assert.deepEqual(normaliseIdentifiers(ids({ user_id: ' U_42 ', anonymous_id: 'Anon-1\t' }), GB), { user_id: 'U_42', anonymous_id: 'Anon-1', dropped: [] });
  });

  it('drops junk values of every field case-insensitively, with their token as value_kind', () => {
    assert.deepEqual([...DEFAULT_JUNK_BLOCKLIST].sort(), ['-', '0', 'anonymous', 'n/a', 'none', 'null', 'test', 'test@test.com', 'undefined', 'unknown']);
    const out = normaliseIdentifiers(ids({ user_id: ' NULL ', email: 'Test@Test.com', phone: 'N/A', anonymous_id: 'Anonymous' }), GB);
    assert.deepEqual(out, {
      dropped: [
        { field: 'user_id', value_kind: 'null', reason: 'junk' },
        { field: 'email', value_kind: 'test@test.com', reason: 'junk' },
        { field: 'phone', value_kind: 'n/a', reason: 'junk' },
        { field: 'anonymous_id', value_kind: 'anonymous', reason: 'junk' },
      ],
    });
  });

  it('drops blank values as empty and ignores nulls', () => {
    const out = normaliseIdentifiers(ids({ user_id: '', email: '   ', anonymous_id: 'a1' }), GB);
    assert.deepEqual(out, {
      anonymous_id: 'a1',
      dropped: [
        { field: 'user_id', value_kind: 'blank', reason: 'empty' },
        { field: 'email', value_kind: 'blank', reason: 'empty' },
      ],
    });
  });

  it('applies a configured blocklist, case-insensitively, also to the normalised phone', () => {
    const opts = { defaultRegion: 'GB', blocklist: new Set(['Shop@Example.com', 'guest', '+441234567890']) };
    const out = normaliseIdentifiers(ids({ email: ' shop@example.COM', user_id: 'GUEST', phone: '01234 567890', anonymous_id: 'a' }), opts);
    assert.deepEqual(out, {
      anonymous_id: 'a',
      dropped: [
        { field: 'user_id', value_kind: 'blocklisted', reason: 'junk' },
        { field: 'email', value_kind: 'blocklisted', reason: 'junk' },
        { field: 'phone', value_kind: 'blocklisted', reason: 'junk' },
      ],
    });
  });

  it('rejects an unknown default region with invalid_options', () => {
    assert.throws(
      () => normaliseIdentifiers(ids({}), { defaultRegion: 'XX', blocklist: new Set() }),
      (err: unknown) => {
        assert.ok(err instanceof ProfileError);
        assert.equal(err.code, 'invalid_options');
        assert.equal(err.path, 'defaultRegion');
        return true;
      },
    );
  });
});

/** The oracle: normalisePhone as it was, without its memo (the value, or the error it throws). */
function referencePhone(raw: string, defaultRegion: string): { phone: string | undefined } | { error: string } {
  try {
    const parsed = parsePhoneNumberFromString(raw, defaultRegion as CountryCode);
    return { phone: parsed?.isPossible() ? parsed.number : undefined };
  } catch (err) {
    return { error: String(err) };
  }
}

function memoised(raw: string, defaultRegion: string): { phone: string | undefined } | { error: string } {
  try {
    return { phone: normalisePhone(raw, defaultRegion) };
  } catch (err) {
    return { error: String(err) };
  }
}

describe('normalisePhone memo', () => {
  const spelling = fc.oneof(
    fc.constantFrom('+44 7700 900123', '07700 900123', '(202) 555-0143', '+1 202 555 0143', '12345', 'call me', '+44 12', '', 'n/a', '+441234567890'),
    fc.stringMatching(/^\+?[0-9 ()-]{0,16}$/),
    fc.string({ maxLength: 12 }),
  );
  const region = fc.constantFrom('GB', 'US', 'DE', 'XX', '');

  test.prop([fc.array(fc.tuple(spelling, region), { maxLength: 60 })], { numRuns: 300 })(
    'gives the oracle result (value, drop or error) for every call, repeats and region changes included',
    (calls) => {
      for (const [raw, r] of [...calls, ...calls]) assert.deepEqual(memoised(raw, r), referencePhone(raw, r), `${raw} (${r})`);
    },
  );

  it('stays right past its bound, when the oldest spellings have been evicted', () => {
    const spellings = Array.from({ length: PHONE_MEMO_SIZE + 50 }, (_, i) => `07700 ${String(900000 + i).padStart(6, '0')}`);
    for (const raw of [...spellings, ...spellings.slice(0, 100), ...spellings.slice(-100)]) {
      assert.deepEqual(memoised(raw, 'GB'), referencePhone(raw, 'GB'), raw);
    }
  });
});
