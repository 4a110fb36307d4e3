// The view's `freshness` against an oracle over the statements themselves: for each e-mail and phone, for country,
// locale and each consent purpose, the latest time an event (or a consent change through the API) stated it, and the
// newest e-mail or phone confirmation; the same whatever order the fragments are joined in, however often repeated.
import assert from 'node:assert/strict';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { type ClickEvent, ConsentPurposeValues } from '@profile-stream/contracts';
import { clickEvent } from '@profile-stream/contracts/testing';
import { describe, it } from 'vitest';
import { cell } from './doc.ts';
import type { ProfileDoc } from './doc.ts';
import { eventFragment, foldEvents } from './fold.ts';
import type { FoldInput } from './fold.ts';
import { join } from './join.ts';
import { normaliseIdentifiers } from './normalise.ts';
import { eventsArb } from './testing/arbitraries.ts';
import { profileView } from './view.ts';
import type { JsonValue } from './view.ts';

/** A consent change through the profile API: the fragment PUT /v1/profiles/:ref/consent folds. */
type ApiConsent = { purpose: string; granted: boolean; at: number; id: string };
type Input = { event: FoldInput } | { api: ApiConsent };

const fragmentOf = (x: Input): ProfileDoc =>
  'event' in x
    ? eventFragment(x.event.topic, x.event.event, x.event.ids)
    : { consent: { [x.api.purpose]: cell({ granted: x.api.granted, source: 'api' }, x.api.at, x.api.id) } };

const apiArb = fc
  .array(fc.record({ purpose: fc.constantFrom(...ConsentPurposeValues), granted: fc.boolean(), at: fc.integer({ min: 0, max: 20 }) }), { maxLength: 5 })
  .map((xs) => xs.map((x, i): ApiConsent => ({ ...x, at: 1_700_000_000_000 + x.at * 1000, id: `api-consent:${i}` })));

/** Distinct inputs, then the same shuffled with some repeated (redeliveries, replays). */
const streamArb = fc.tuple(eventsArb(30), apiArb).chain(([events, api]) => {
  const inputs: Input[] = [...events.map((event) => ({ event })), ...api.map((a) => ({ api: a }))];
  return fc.tuple(
    fc.constant(inputs),
    fc.shuffledSubarray(inputs, { minLength: inputs.length, maxLength: inputs.length }),
    fc.array(fc.nat(), { maxLength: 8 }),
  );
});

const iso = (t: number) => new Date(t).toISOString();
const text = (v: string | null | undefined) => (v?.trim() ? v.trim() : undefined);

/** The oracle: written from the statements, not from the document. */
function expectedFreshness(inputs: readonly Input[]): JsonValue {
  const latest = (m: Map<string, number>, k: string, t: number) => m.set(k, Math.max(t, m.get(k) ?? t));
  const email = new Map<string, number>();
  const phone = new Map<string, number>();
  const consent = new Map<string, number>();
  const one = new Map<string, number>();
  for (const x of inputs) {
    if ('api' in x) {
      latest(consent, x.api.purpose, x.api.at);
      continue;
    }
    const { event: e, ids, topic } = x.event;
    if (ids.email !== undefined) latest(email, ids.email, e.occurred_at);
    if (ids.phone !== undefined) latest(phone, ids.phone, e.occurred_at);
    if (topic !== 'clickstream') continue;
    const click = x.event.event as FoldInput['event'] & { country: string | null; locale: string | null; type: string; consent: { purpose: string } | null };
    if (text(click.country) !== undefined) latest(one, 'country', e.occurred_at);
    if (text(click.locale) !== undefined) latest(one, 'locale', e.occurred_at);
    if (click.type === 'consent_updated' && click.consent !== null) latest(consent, click.consent.purpose, e.occurred_at);
  }
  const times = (m: Map<string, number>) => Object.fromEntries([...m].map(([k, t]) => [k, iso(t)]));
  const contact = [...email.values(), ...phone.values()];
  return {
    consent: times(consent),
    contact_confirmed_at: contact.length === 0 ? null : iso(Math.max(...contact)),
    country: one.has('country') ? iso(one.get('country')!) : null,
    email: times(email),
    locale: one.has('locale') ? iso(one.get('locale')!) : null,
    phone: times(phone),
  };
}

const freshnessOf = (doc: ProfileDoc): JsonValue => (profileView(doc, { profile_id: 'p', merged_ids: [] }) as { freshness: JsonValue }).freshness;

describe('freshness against an oracle over the statements (fast-check)', () => {
  test.prop([streamArb], { numRuns: 500 })('in any order, with duplicates', ([inputs, shuffled, dups]) => {
    let doc: ProfileDoc = {};
    const stream = [...shuffled];
    for (const d of dups) if (inputs.length > 0) stream.splice(d % (stream.length + 1), 0, inputs[d % inputs.length]!);
    for (const x of stream) doc = join(doc, fragmentOf(x));
    assert.deepEqual(freshnessOf(doc), expectedFreshness(inputs));
  });
});

describe('freshness', () => {
  const GB = { defaultRegion: 'GB', blocklist: new Set<string>() };
  const T = Date.UTC(2025, 0, 10);
  const D = 86_400_000;
  let n = 0;
  const click = (at: number, who: { email?: string; phone?: string; user_id?: string }, more: Partial<ClickEvent> = {}): FoldInput => {
    const event = clickEvent({
      user_id: who.user_id ?? null,
      email: who.email ?? null,
      phone: who.phone ?? null,
      event_id: `c${n++}`,
      occurred_at: at,
      ...more,
    });
    return { topic: 'clickstream', event, ids: normaliseIdentifiers(event, GB) };
  };

  it('a profile without contact data or statements shows empty maps and nulls', () => {
    assert.deepEqual(freshnessOf(foldEvents([click(T, { user_id: 'u1' })])), {
      consent: {},
      contact_confirmed_at: null,
      country: null,
      email: {},
      locale: null,
      phone: {},
    });
  });

  it('restating the same value moves the time; events without contact data leave contact_confirmed_at alone', () => {
    const granted: Partial<ClickEvent> = { type: 'consent_updated', consent: { purpose: 'email', granted: true } };
    const doc = foldEvents([
      click(T, { email: 'a@example.com', phone: '07700 900123' }, { country: 'GB', ...granted }),
      click(T + D, { phone: '+44 7700 900123' }, { country: 'GB', ...granted }),
      click(T + 2 * D, { user_id: 'u1' }, { locale: 'en-GB' }),
    ]);
    assert.deepEqual(freshnessOf(doc), {
      consent: { email: iso(T + D) },
      contact_confirmed_at: iso(T + D),
      country: iso(T + D),
      email: { 'a@example.com': iso(T) },
      locale: iso(T + 2 * D),
      phone: { '+447700900123': iso(T + D) },
    });
  });
});
