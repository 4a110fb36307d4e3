/**
 * `GET /v1/profiles/:ref` and `GET /v1/profiles:batch`: a ref resolved as the CLI's `profile` resolves it
 * (resolveRef: normalised like the stitchers, merge aliases followed), the profile as DESIGN §5 JSON (profileView).
 */
import type { FastifyInstance } from 'fastify';
import { type JsonValue, type NormaliseOptions, type ProfileStore, profileView, resolveRef } from '@profile-stream/profile';
import type { ApiMetrics } from '../metrics.ts';
import { apiError, type Problem, problemOf } from '../problem.ts';
import { batchSchema, getProfileSchema } from '../schemas.ts';

export interface ProfileRoutesDeps {
  store: ProfileStore;
  normalise: NormaliseOptions;
  metrics: ApiMetrics;
}

export type Found = { requested: string; found: true; merged_into?: string; profile: JsonValue };
export type NotFound = { requested: string; found: false; error: Problem };

/** One ref: found (with how), or not found; invalid refs and Redis trouble throw (the caller decides). */
async function lookup(d: ProfileRoutesDeps, ref: string): Promise<Found | undefined> {
  const r = await resolveRef(d.store, ref, d.normalise);
  const p = r.profile;
  d.metrics.refs.inc({ outcome: p === undefined ? 'not_found' : r.mergedInto ? 'merged' : 'found' });
  if (p === undefined) return undefined;
  return {
    requested: ref,
    found: true,
    ...(r.mergedInto ? { merged_into: r.mergedInto } : {}),
    profile: profileView(p.doc as never, { profile_id: p.profileId, merged_ids: p.mergedIds }),
  };
}

const notFound = (ref: string) => apiError('not_found', `no profile for ${ref}`);

/** The profile a ref leads to, or the error to answer (invalid_ref, not_found), counted in the metrics. */
export async function findProfile(d: ProfileRoutesDeps, ref: string): Promise<Found> {
  const found = await lookup(d, ref).catch((err: unknown) => {
    if (problemOf(err).code === 'invalid_ref') d.metrics.refs.inc({ outcome: 'invalid' });
    throw err;
  });
  if (!found) throw notFound(ref);
  return found;
}

export function registerProfileRoutes(app: FastifyInstance, d: ProfileRoutesDeps): void {
  app.get<{ Params: { ref: string } }>('/v1/profiles/:ref', { schema: getProfileSchema, config: { scope: 'read' } }, async (req) =>
    findProfile(d, req.params.ref),
  );

  // `::` is find-my-way's escaped colon: the path is /v1/profiles:batch (Google's custom-method style, AIP-136).
  app.get<{ Querystring: { ref: string[] } }>('/v1/profiles::batch', { schema: batchSchema, config: { scope: 'read' } }, async (req) => {
    const results = await Promise.all(
      req.query.ref.map(async (ref): Promise<Found | NotFound> => {
        try {
          return (await lookup(d, ref)) ?? { requested: ref, found: false, error: problemOf(notFound(ref)) };
        } catch (err) {
          const p = problemOf(err);
          // A bad ref is that ref's answer; anything else (Redis down) fails the request.
          if (p.code !== 'invalid_ref') throw err;
          d.metrics.refs.inc({ outcome: 'invalid' });
          return { requested: ref, found: false, error: p };
        }
      }),
    );
    return { results };
  });
}
