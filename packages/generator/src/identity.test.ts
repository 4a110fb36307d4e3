import assert from 'node:assert/strict';
import { test } from 'vitest';
import { createIdentity, emailVariant, isJunk, JUNK_IDENTIFIERS, normaliseEmail, normalisePhone, phoneVariant, REGIONS } from './identity.ts';
import { createRng, uuidFor } from './prng.ts';

test('uuidFor is v4-shaped and unique per counter', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 50_000; i++) {
    const id = uuidFor(1234, i);
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 50_000);
  assert.notEqual(uuidFor(1, 0), uuidFor(2, 0));
});

test('the PRNG is reproducible and roughly uniform', () => {
  const a = createRng(7, 1);
  const b = createRng(7, 1);
  const xs = Array.from({ length: 10_000 }, () => a.next());
  assert.deepEqual(
    xs,
    Array.from({ length: 10_000 }, () => b.next()),
  );
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.02, String(mean));
  assert.notEqual(createRng(7, 2).next(), createRng(7, 1).next());
});

test('every email and phone spelling normalises back to the true identifier', () => {
  const rng = createRng(99);
  for (const defaultRegion of ['GB', 'US', 'DE']) {
    for (let i = 0; i < 400; i++) {
      const region = REGIONS[i % REGIONS.length]!;
      const id = createIdentity(i, rng, region);
      assert.match(id.phone, /^\+[1-9]\d{8,13}$/);
      for (let k = 0; k < 10; k++) {
        assert.equal(normaliseEmail(emailVariant(id.email, rng)), id.email);
        const spelled = phoneVariant(id, defaultRegion, rng);
        assert.equal(normalisePhone(spelled, defaultRegion), id.phone, `${spelled} (${region.country}, default ${defaultRegion})`);
      }
    }
  }
});

test('true identifiers are unique per customer', () => {
  const rng = createRng(3);
  const emails = new Set<string>();
  const phones = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    const id = createIdentity(i, rng, REGIONS[i % REGIONS.length]!);
    emails.add(id.email);
    phones.add(id.phone);
  }
  assert.equal(emails.size, 20_000);
  assert.equal(phones.size, 20_000);
});

test('junk values are recognised, real ones are not', () => {
  for (const j of JUNK_IDENTIFIERS) assert.ok(isJunk(j) && isJunk(` ${j.toUpperCase()} `), j);
  assert.ok(isJunk(null));
  assert.ok(!isJunk('u_1') && !isJunk('alice@example.com') && !isJunk('+447700900123'));
});
