/** `GET /v1/segments`: the definitions this deployment evaluates (the segmenter's SEGMENTS_DIR and SEGMENT_PARAMS). */
import type { FastifyInstance } from 'fastify';
import type { SegmentDefinition } from '@profile-stream/segments';
import { segmentsSchema } from '../schemas.ts';

export function registerSegmentRoutes(app: FastifyInstance, d: { defs: readonly SegmentDefinition[] }): void {
  // What a definition says about itself; its condition tree stays internal (`profile-stream segments show` prints it).
  const segments = d.defs.map((s) => ({
    id: s.id,
    name: s.name,
    version: s.version,
    description: s.description,
    requires_consent: s.requires_consent,
    traits: [...s.traits],
    params: s.params,
  }));
  app.get('/v1/segments', { schema: segmentsSchema, config: { scope: 'read' } }, async () => ({ segments }));
}
