/**
 * `PUT /v1/profiles/:ref/consent`: a consent change made by a person (a support agent on the phone, a preference
 * centre) rather than by an event. It is folded into the profile like an event's consent: last-writer-wins per purpose
 * by the time it was given (`at`), then the event id, with its source; so an older change than the profile's current
 * one for that purpose changes nothing (`applied: false`), and a later event of the customer overrides it. The new
 * profile version is published on `profile-changes` with cause `consent`, so the segmenter re-evaluates at once
 * (consent-gated segments exit with reason `consent_withdrawn`). Answers once Redis and Kafka have both acknowledged.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { cell, type ConsentValue, type ProfileDoc, type ProfileStore, resolveRef, type NormaliseOptions } from '@profile-stream/profile';
import { CONSENT_PURPOSES } from '@profile-stream/segments';
import { apiError } from '../problem.ts';

/** How far ahead of the server's clock `at` may be (clock skew of the caller), in ms. */
export const CONSENT_MAX_SKEW_MS = 60_000;

export interface ConsentChange {
  profileId: string;
  version: number;
  doc: Record<string, unknown>;
  mergedIds: string[];
  eventId: string;
  at: number;
}

export interface ConsentDeps {
  /** The profile store, with the stitchers' de-duplication window (a fold trims the window it is given). */
  store: ProfileStore;
  normalise: NormaliseOptions;
  /** Publishes the change on profile-changes (cause consent); resolves once the broker acknowledged it. */
  publish: (change: ConsentChange) => Promise<void>;
  now: () => number;
}

interface Body {
  purpose: string;
  granted: boolean;
  at?: string;
  source?: string;
}

const consentView = {
  type: 'object',
  required: ['granted', 'source', 'at'],
  properties: { granted: { type: 'boolean' }, source: { type: 'string' }, at: { type: 'string' } },
};

const putConsentSchema = {
  summary: "Change a profile's consent for one purpose (last-writer-wins by `at`)",
  tags: ['profiles'],
  params: { type: 'object', required: ['ref'], properties: { ref: { type: 'string', minLength: 1 } } },
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['purpose', 'granted'],
    properties: {
      purpose: { type: 'string', enum: [...CONSENT_PURPOSES] },
      granted: { type: 'boolean' },
      at: { type: 'string', format: 'date-time', description: 'when the customer gave or withdrew it (default: now); not in the future' },
      source: { type: 'string', minLength: 1, maxLength: 200, description: 'who or what recorded it (default `api`)' },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['requested', 'profile_id', 'purpose', 'applied', 'consent', 'profile_version'],
      properties: {
        requested: { type: 'string' },
        profile_id: { type: 'string' },
        purpose: { type: 'string' },
        applied: { type: 'boolean', description: 'false when the profile already held a later change for this purpose (that one stands)' },
        consent: consentView,
        profile_version: { type: 'integer' },
      },
    },
  },
} as const;

export function registerConsentRoutes(app: FastifyInstance, d: ConsentDeps): void {
  app.put<{ Params: { ref: string }; Body: Body }>('/v1/profiles/:ref/consent', { schema: putConsentSchema, config: { scope: 'consent' } }, async (req) => {
    const { purpose, granted } = req.body;
    const now = d.now();
    const at = req.body.at === undefined ? now : Date.parse(req.body.at);
    if (!Number.isFinite(at)) throw apiError('invalid_request', 'body/at: not a date-time');
    if (at > now + CONSENT_MAX_SKEW_MS) throw apiError('invalid_request', `body/at: ${req.body.at} is in the future`);
    const found = await resolveRef(d.store, req.params.ref, d.normalise);
    if (found.profile === undefined) throw apiError('not_found', `no profile for ${req.params.ref}`);
    const eventId = `api-consent:${randomUUID()}`;
    const value: ConsentValue = { granted, source: req.body.source ?? 'api' };
    const fragment: ProfileDoc = { consent: { [purpose]: cell(value, at, eventId) } };
    // The fold follows a merge that happened meanwhile and completes merges pending into the profile.
    const fold = await d.store.fold(found.profile.profileId, [{ event_id: eventId, occurred_at: at, fragment }]);
    await d.publish({ profileId: fold.profileId, version: fold.version, doc: fold.doc, mergedIds: fold.mergedIds, eventId, at });
    const held = (fold.doc as ProfileDoc).consent?.[purpose];
    return {
      requested: req.params.ref,
      profile_id: fold.profileId,
      purpose,
      applied: held?.id === eventId,
      consent: held
        ? { granted: held.v.granted, source: held.v.source, at: new Date(held.t).toISOString() }
        : { granted, source: value.source, at: new Date(at).toISOString() },
      profile_version: fold.version,
    };
  });
}
