/**
 * `DELETE /v1/profiles/:ref` (scope `erase`) and the one erase the CLI's `profile-stream erase` runs too (eraseRef):
 * the profile the ref leads to and every profile merged into it are erased from Redis (ProfileStore.erase: identity
 * index, profile keys; tombstones and an audit record without PII stay), THEN published: a `profile-erased` record
 * (the warehouse deletes the rows, the segmenter retires the profiles with reason `profile_erased`) and a
 * `profile-changes` record with cause `erase` and a null profile for the root and each merged profile (so compaction
 * of profile-changes drops their earlier records). If publishing fails the request fails; the next erase of the same
 * ref publishes again (same record ids: consumers de-duplicate). Erasing again answers the original audit id.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ContractsRegistry, TopicTable } from '@profile-stream/contracts';
import { type ErasureRecord, type IdentifierType, type NormaliseOptions, parseRef, type ProfileStore } from '@profile-stream/profile';
import { apiError } from '../problem.ts';

export interface EraseDeps {
  store: ProfileStore;
  normalise: NormaliseOptions;
  /** ProfileErased.identifier_hashes: HMAC-SHA256 of "type:value" with PII_HASH_KEY (the warehouse's identifierHash). */
  hash: (type: IdentifierType, value: string) => string;
  /** Publishes the erasure's records; resolves once the broker acknowledged them. */
  publish: (record: ErasureRecord) => Promise<void>;
}

export interface EraseWho {
  requestedBy: string;
  requestId: string;
  reason: string | null;
}

/** The answer of an erase (the API's 200 body, the CLI's --json line): the audit record, no PII. */
export interface EraseAnswer {
  requested: string;
  erased: 'now' | 'already';
  audit_id: string;
  profile_id: string;
  merged_ids: string[];
  counts: { identifiers: number; keys: number; merged_profiles: number };
  identifier_hashes: number;
  requested_by: string;
  request_id: string;
  reason: string | null;
  at: string;
}

/** Erases what a ref leads to and publishes it; throws invalid_ref, not_found. */
export async function eraseRef(d: EraseDeps, ref: string, who: EraseWho): Promise<EraseAnswer> {
  const parsed = parseRef(ref, d.normalise);
  const e = await d.store.erase(parsed, { ...who, hash: d.hash });
  if (!e) throw apiError('not_found', `no profile for ${ref}`);
  if (!e.published) {
    await d.publish(e.record);
    await d.store.eraser.published(e.record.audit_id);
  }
  const r = e.record;
  return {
    requested: ref,
    erased: e.outcome === 'erased' ? 'now' : 'already',
    audit_id: r.audit_id,
    profile_id: r.profile_id,
    merged_ids: r.merged_ids,
    counts: r.counts ?? { identifiers: 0, keys: 0, merged_profiles: r.merged_ids.length },
    identifier_hashes: r.identifier_hashes.length,
    requested_by: r.requested_by,
    request_id: r.request_id,
    reason: r.reason,
    at: new Date(r.at).toISOString(),
  };
}

/**
 * The records of an erasure: profile-erased (key: the root) and profile-changes with cause `erase` and no profile for
 * the root and each merged profile. Ids are derived from the audit id, so a re-publish carries the same ones.
 */
export async function erasureRecords(registry: ContractsRegistry, topics: TopicTable, r: ErasureRecord, now: number) {
  const erased = topics['profile-erased'].topic;
  const changes = topics['profile-changes'].topic;
  return [
    {
      topic: erased,
      messages: [
        {
          key: r.profile_id,
          value: await registry.encodeTrusted(erased, {
            event_id: `erase:${r.audit_id}`,
            profile_id: r.profile_id,
            merged_ids: r.merged_ids,
            identifier_hashes: r.identifier_hashes,
            requested_by: r.requested_by,
            reason: r.reason,
            occurred_at: r.at,
            emitted_at: now,
          }),
        },
      ],
    },
    {
      topic: changes,
      messages: await Promise.all(
        [r.profile_id, ...r.merged_ids].map(async (pid) => ({
          key: pid,
          value: await registry.encodeTrusted(changes, {
            event_id: `${pid}:erase:${r.audit_id}`,
            profile_id: pid,
            profile_version: r.version + 1,
            cause: 'erase',
            trigger_event_id: `erase:${r.audit_id}`,
            source_topic: null,
            changed_sections: [],
            occurred_at: r.at,
            emitted_at: now,
            profile_json: null,
          }),
        })),
      ),
    },
  ];
}

const countsSchema = {
  type: 'object',
  required: ['identifiers', 'keys', 'merged_profiles'],
  properties: {
    identifiers: { type: 'integer', description: 'identifiers the profiles owned' },
    keys: { type: 'integer', description: 'Redis keys deleted (identity index and profile keys)' },
    merged_profiles: { type: 'integer' },
  },
};

const deleteSchema = {
  summary: 'Erase a profile and every profile merged into it (idempotent: again answers the original audit id)',
  tags: ['profiles'],
  params: { type: 'object', required: ['ref'], properties: { ref: { type: 'string', minLength: 1 } } },
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { reason: { type: 'string', minLength: 1, maxLength: 200, description: 'why (kept in the audit record), e.g. gdpr_request' } },
  },
  response: {
    200: {
      type: 'object',
      required: ['requested', 'erased', 'audit_id', 'profile_id', 'merged_ids', 'counts', 'identifier_hashes', 'requested_by', 'request_id', 'at'],
      properties: {
        requested: { type: 'string' },
        erased: { type: 'string', enum: ['now', 'already'], description: '`already`: erased before; the audit record is that erasure’s' },
        audit_id: { type: 'string' },
        profile_id: { type: 'string' },
        merged_ids: { type: 'array', items: { type: 'string' } },
        counts: countsSchema,
        identifier_hashes: { type: 'integer', description: 'identifier hashes kept as tombstones (no PII)' },
        requested_by: { type: 'string', description: 'the API key id, or cli:<user>' },
        request_id: { type: 'string' },
        reason: { type: ['string', 'null'] },
        at: { type: 'string' },
      },
    },
  },
} as const;

export function registerEraseRoutes(app: FastifyInstance, d: EraseDeps): void {
  app.delete<{ Params: { ref: string }; Querystring: { reason?: string } }>(
    '/v1/profiles/:ref',
    { schema: deleteSchema, config: { scope: 'erase' } },
    async (req) => eraseRef(d, req.params.ref, { requestedBy: req.apiKey?.id ?? 'unknown', requestId: String(req.id), reason: req.query.reason ?? null }),
  );
}

/** A request id for callers without one (the CLI). */
export const newRequestId = (): string => randomUUID();
