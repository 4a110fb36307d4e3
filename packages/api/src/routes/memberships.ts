/**
 * `GET /v1/profiles/:ref/segments`: the profile's memberships as the segmenter stored them (MembershipStore), each
 * explained on the profile as it is now (explain: the conditions, the values they saw); `?all=1` adds the segments it
 * is not in, with why not. `GET /v1/segments/:id/members`: a segment's members, cursor-paged (members-page.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { MembershipStore } from '@profile-stream/segmenter';
import { decisiveLeaves, explain, factsOf, type SegmentDefinition } from '@profile-stream/segments';
import { membersPage } from '../members-page.ts';
import { apiError } from '../problem.ts';
import { membersSchema, profileSegmentsSchema } from '../schemas.ts';
import { findProfile, type ProfileRoutesDeps } from './profiles.ts';

export interface MembershipRoutesDeps extends ProfileRoutesDeps {
  memberships: MembershipStore;
  defs: readonly SegmentDefinition[];
  /** The definitions as the segmenter evaluates them now (its current RFM breakpoints); default `defs`. */
  current?: () => readonly SegmentDefinition[];
  /** The instant segments are explained at. */
  now: () => number;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function registerMembershipRoutes(app: FastifyInstance, d: MembershipRoutesDeps): void {
  app.get<{ Params: { ref: string }; Querystring: { all: 0 | 1 } }>(
    '/v1/profiles/:ref/segments',
    { schema: profileSegmentsSchema, config: { scope: 'read' } },
    async (req) => {
      const found = await findProfile(d, req.params.ref);
      const profileId = (found.profile as { profile_id: string }).profile_id;
      const [state, now] = [await d.memberships.read(profileId), d.now()];
      const facts = factsOf(found.profile); // read once for every definition
      const segments = [];
      for (const def of d.current?.() ?? d.defs) {
        const stored = state.segments.get(def.id);
        const member = stored?.member === true;
        if (!member && req.query.all !== 1) continue;
        const tree = explain(def, facts, now);
        segments.push({
          id: def.id,
          name: def.name,
          member,
          // Version 0: evaluated but never a member (the store then keeps no time).
          since: stored && stored.version > 0 ? iso(stored.occurredAt) : null,
          membership_version: stored?.version ?? 0,
          definition_version: stored?.definitionVersion ?? null,
          reason: null,
          why: { holds: tree.holds, conditions: decisiveLeaves(tree), tree },
        });
      }
      return {
        requested: found.requested,
        profile_id: profileId,
        ...(found.merged_into ? { merged_into: found.merged_into } : {}),
        evaluated_at: iso(now),
        segments,
      };
    },
  );

  const known = new Set(d.defs.map((s) => s.id));
  app.get<{ Params: { id: string }; Querystring: { cursor?: string; limit: number } }>(
    '/v1/segments/:id/members',
    { schema: membersSchema, config: { scope: 'read' } },
    async (req) => {
      const { id } = req.params;
      if (!known.has(id)) throw apiError('not_found', `no segment ${id} (GET /v1/segments lists them)`);
      const scan = (shard: number, cursor: string, count: number) => d.memberships.scanMembers(id, shard, cursor, count);
      const page = await membersPage(scan, d.memberships.shards, req.query.cursor, req.query.limit);
      return { segment_id: id, members: page.members.map((profile_id) => ({ profile_id })), next_cursor: page.next };
    },
  );
}
