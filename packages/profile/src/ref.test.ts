import assert from 'node:assert/strict';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { isProfileError } from './errors.ts';
import { normaliseIdentifiers, type IdentifierField } from './normalise.ts';
import { MAX_REF_LENGTH, parseRef, REF_TYPES } from './ref.ts';
import { profileIdBase } from './store/store.ts';

const GB = { defaultRegion: 'GB', blocklist: new Set(['blocked-user']) };

function invalid(ref: string): string {
  try {
    parseRef(ref, GB);
  } catch (err) {
    assert.ok(isProfileError(err, 'invalid_ref'), `${ref}: ${String(err)}`);
    assert.equal(err.path, 'ref');
    return err.message;
  }
  assert.fail(`${ref} was accepted`);
}

describe('parseRef', () => {
  it('reads each typed ref, normalised as the stitchers normalise', () => {
    assert.deepEqual(parseRef('email:  Alice@Example.COM ', GB), { kind: 'email', value: 'alice@example.com' });
    assert.deepEqual(parseRef('phone:07700 900123', GB), { kind: 'phone', value: '+447700900123' });
    assert.deepEqual(parseRef('phone:+44 (0)7700-900123', GB), { kind: 'phone', value: '+447700900123' });
    assert.deepEqual(parseRef('user: u-42 ', GB), { kind: 'user_id', value: 'u-42' });
    assert.deepEqual(parseRef('anon:a:b:c', GB), { kind: 'anonymous_id', value: 'a:b:c' });
  });

  it('reads profile ids as the store makes them', () => {
    const id = `${profileIdBase(Date.now())}00001`;
    assert.deepEqual(parseRef(id, GB), { kind: 'profile_id', value: id });
  });

  it('refuses unknown types, junk, malformed identifiers and things that are not profile ids, without echoing the value', () => {
    assert.match(invalid('fax:123'), /unknown ref type "fax"/);
    assert.match(invalid('email:not-an-email'), /not a usable email \(invalid_email\)/);
    assert.match(invalid('phone:call me'), /invalid_phone/);
    assert.match(invalid('user:n/a'), /junk/);
    assert.match(invalid('user:blocked-user'), /junk/);
    assert.match(invalid('anon:   '), /empty/);
    assert.match(invalid('P0MB3XYZ'), /expected a profile id/);
    assert.match(invalid(''), /expected a profile id/);
    assert.match(invalid(`user:${'x'.repeat(MAX_REF_LENGTH)}`), /at most 512/);
    assert.doesNotMatch(invalid('email:secret-address'), /secret/);
  });

  const types = Object.entries(REF_TYPES) as [keyof typeof REF_TYPES, IdentifierField][];
  test.prop([fc.constantFrom(...types), fc.oneof(fc.string({ maxLength: 40 }), fc.emailAddress(), fc.stringMatching(/^[+0 ()-]?[0-9 ()-]{4,16}$/))], {
    numRuns: 500,
  })('a typed ref is exactly what normaliseIdentifiers keeps of the value, and invalid_ref when it keeps nothing', ([prefix, field], raw) => {
    const fields: Record<IdentifierField, string | null> = { user_id: null, email: null, phone: null, anonymous_id: null };
    fields[field] = raw;
    const kept = normaliseIdentifiers(fields, GB)[field];
    if (kept === undefined) invalid(`${prefix}:${raw}`);
    else assert.deepEqual(parseRef(`${prefix}:${raw}`, GB), { kind: field, value: kept });
  });
});
