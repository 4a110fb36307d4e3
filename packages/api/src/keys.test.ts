import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { isRetriable, ProfileStreamError } from '@profile-stream/contracts/errors';
import { bearerToken, hashKey, keyId, newKey, parseScopes, SCOPES } from './keys.ts';

describe('newKey / keyId', () => {
  it('makes keys that parse back to their id, each different, with 256 bits of secret', () => {
    const keys = Array.from({ length: 200 }, () => newKey());
    for (const { id, key } of keys) {
      assert.match(key, /^psk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      assert.equal(keyId(key), id);
      assert.equal(Buffer.from(key.slice(21), 'base64url').length, 32);
    }
    assert.equal(new Set(keys.map((k) => k.key)).size, keys.length);
    assert.equal(new Set(keys.map((k) => k.id)).size, keys.length);
  });

  it('reads nothing from malformed keys', () => {
    const { key } = newKey();
    for (const bad of ['', 'psk_', key.slice(0, -1), `${key}x`, key.replace('psk_', 'pk_'), key.toUpperCase(), ` ${key}`, key.replace(/_/, '-')]) {
      assert.equal(keyId(bad), undefined, bad);
    }
  });

  test.prop([fc.string({ maxLength: 80 })])('never reads an id out of a string that is not a key', (s) => {
    if (!/^psk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/.test(s)) assert.equal(keyId(s), undefined);
  });
});

describe('hashKey', () => {
  it('is SHA-256 of the whole key, never the key itself', () => {
    const { key } = newKey();
    const h = hashKey(key);
    assert.equal(h.length, 32);
    assert.equal(h.toString('hex'), createHash('sha256').update(key).digest('hex'));
    assert.ok(!h.toString('hex').includes(key.slice(21)));
    assert.notDeepEqual(hashKey(newKey().key), h);
  });
});

describe('bearerToken', () => {
  it('reads RFC 6750 bearer credentials, the scheme in any case', () => {
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('bearer   abc'), 'abc');
    assert.equal(bearerToken('BEARER abc '), 'abc');
  });

  it('reads nothing else', () => {
    for (const h of [undefined, '', 'Bearer', 'Bearer ', 'Basic abc', 'abc', 'Bearer a b', 'Token abc']) assert.equal(bearerToken(h), undefined, String(h));
  });
});

describe('parseScopes', () => {
  it('reads known scopes in their declared order, without repeats', () => {
    assert.deepEqual(parseScopes('read'), ['read']);
    assert.deepEqual(parseScopes(' erase , read,read '), ['read', 'erase']);
    assert.deepEqual(parseScopes(SCOPES.join(',')), [...SCOPES]);
  });

  it('refuses unknown or no scopes, naming the option (invalid_options)', () => {
    for (const bad of ['', ' , ', 'write', 'read,superuser']) {
      assert.throws(
        () => parseScopes(bad),
        (err: unknown) =>
          err instanceof ProfileStreamError &&
          err.code === 'invalid_options' &&
          err.details.option === 'scopes' &&
          /--scopes/.test(err.message) &&
          !isRetriable(err),
        bad,
      );
    }
  });
});
