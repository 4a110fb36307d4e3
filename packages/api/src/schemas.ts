/**
 * The JSON schemas of the routes: they validate requests and document responses in the OpenAPI 3.1 document (`/docs`).
 * Responses are serialised with JSON.stringify, not compiled from these schemas, so the profile JSON is byte for byte
 * the CLI's `profile --json` (DESIGN §5: the names are a contract; fields beyond these are documented by `rules.ts`).
 */
import { ClickEventTypeValues } from '@profile-stream/contracts';
import { MAX_REF_LENGTH } from '@profile-stream/profile';
import { SCOPES } from './keys.ts';

export const MAX_BATCH_REFS = 100;

const time = { type: 'string', format: 'date-time' } as const;
const strings = { type: 'array', items: { type: 'string' } } as const;
const nullable = (s: object) => ({ oneOf: [s, { type: 'null' }] });

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details; `code` is the error code (README "Error codes")',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
  },
} as const;

export const profileSchema = {
  $id: 'Profile',
  type: 'object',
  description: 'The profile (DESIGN §5), as `profile-stream profile --json` prints it',
  required: ['profile_id', 'merged_ids'],
  additionalProperties: true,
  properties: {
    profile_id: { type: 'string' },
    merged_ids: { ...strings, description: 'profiles merged into this one' },
    identity: {
      type: 'object',
      additionalProperties: true,
      properties: { user_ids: strings, emails: strings, phones: strings, anonymous_ids: strings },
    },
    activity: { type: 'object', additionalProperties: true, properties: { first_seen_at: nullable(time), last_seen_at: nullable(time) } },
    transactions: {
      type: 'object',
      additionalProperties: true,
      properties: {
        orders_count: { type: 'integer' },
        revenue_minor: { type: 'object', additionalProperties: { type: 'integer' }, description: 'per ISO 4217 currency, in minor units' },
        first_purchase_at: nullable(time),
        last_purchase_at: nullable(time),
      },
    },
    support: {
      type: 'object',
      additionalProperties: true,
      properties: { open_tickets: { type: 'integer' }, tickets_count: { type: 'integer' }, last_csat: nullable({ type: 'integer' }) },
    },
    consent: {
      type: 'object',
      description: 'per purpose',
      additionalProperties: { type: 'object', additionalProperties: true, properties: { granted: { type: 'boolean' }, at: time } },
    },
    freshness: {
      type: 'object',
      description: 'when each contact field was last confirmed by an event (README "Freshness")',
      additionalProperties: true,
      properties: {
        email: { type: 'object', additionalProperties: time, description: 'per e-mail address' },
        phone: { type: 'object', additionalProperties: time, description: 'per phone number (E.164)' },
        country: nullable(time),
        locale: nullable(time),
        consent: { type: 'object', additionalProperties: time, description: 'per purpose (equals consent.<purpose>.at)' },
        contact_confirmed_at: { ...nullable(time), description: 'the newest e-mail or phone confirmation' },
      },
    },
  },
} as const;

const ref = { type: 'string', minLength: 1, maxLength: MAX_REF_LENGTH, description: 'a profile id, or email:…, phone:…, user:…, anon:…' } as const;

/** A found profile and how the ref led to it. */
const found = {
  type: 'object',
  required: ['requested', 'found', 'profile'],
  properties: {
    requested: { type: 'string', description: 'the ref as asked' },
    found: { type: 'boolean', const: true },
    merged_into: { type: 'string', description: 'present when the ref was the id of a profile merged into another: the live profile' },
    profile: { $ref: 'Profile#' },
  },
} as const;

/** Error answers, documented with their media type (RFC 9457). */
const problems = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [s, { description: 'a problem (see `code`)', content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } } }]),
  );

export const getProfileSchema = {
  summary: 'A profile by any ref, following merges',
  tags: ['profiles'],
  params: { type: 'object', required: ['ref'], properties: { ref } },
  response: { 200: found, ...problems(400, 401, 403, 404, 429, 503) },
} as const;

export const batchSchema = {
  summary: `Up to ${MAX_BATCH_REFS} profiles at once (?ref=…&ref=…), each found or not, in request order`,
  tags: ['profiles'],
  querystring: {
    type: 'object',
    required: ['ref'],
    additionalProperties: false,
    properties: { ref: { type: 'array', minItems: 1, maxItems: MAX_BATCH_REFS, items: ref } },
  },
  response: {
    200: {
      type: 'object',
      required: ['results'],
      properties: {
        results: {
          type: 'array',
          items: {
            oneOf: [
              found,
              {
                type: 'object',
                required: ['requested', 'found', 'error'],
                properties: { requested: { type: 'string' }, found: { type: 'boolean', const: false }, error: { $ref: 'Problem#' } },
              },
            ],
          },
        },
      },
    },
    ...problems(400, 401, 403, 429, 503),
  },
} as const;

export const segmentsSchema = {
  summary: 'The segment definitions this deployment evaluates',
  tags: ['segments'],
  response: {
    200: {
      type: 'object',
      required: ['segments'],
      properties: {
        segments: {
          type: 'array',
          items: {
            type: 'object',
            required: ['id', 'name', 'version', 'description', 'requires_consent', 'traits', 'params'],
            properties: {
              id: { type: 'string' },
              name: { type: 'string' },
              version: { type: 'integer' },
              description: { type: 'string' },
              requires_consent: nullable({ type: 'string' }),
              traits: strings,
              params: { type: 'object', additionalProperties: true },
            },
          },
        },
      },
    },
    ...problems(401, 403, 429),
  },
} as const;

/** A node of a segment's explanation (packages/segments explain.ts): a leaf, or all / any / not over nodes. */
export const explanationSchema = {
  $id: 'Explanation',
  type: 'object',
  required: ['kind', 'holds'],
  properties: {
    kind: { type: 'string', enum: ['leaf', 'all', 'any', 'not'] },
    holds: { type: 'boolean', description: 'the result of this node now' },
    field: { type: 'string', description: 'leaf: the profile field; for count / sum what is counted or summed; `rfm`' },
    operator: { type: 'string', description: 'leaf: the definition’s operator (eq, in, within_last, …; count, sum; rfm)' },
    expected: { description: 'leaf: what the definition asks (a value, a duration such as 30d, bounds with their window, RFM ranges)' },
    actual: { description: 'leaf: the profile’s value as the condition saw it (null: absent), the count or sum, the RFM scores' },
    of: { description: 'all / any: the children; not: the child', oneOf: [{ $ref: 'Explanation#' }, { type: 'array', items: { $ref: 'Explanation#' } }] },
  },
} as const;

const membership = {
  type: 'object',
  required: ['id', 'name', 'member', 'since', 'membership_version', 'definition_version', 'reason', 'why'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    member: { type: 'boolean', description: 'as the segmenter stored it' },
    since: { ...nullable(time), description: 'when the last entry (or, not a member, exit) happened; null: never a member' },
    membership_version: { type: 'integer', description: 'entries and exits so far (0: never a member)' },
    definition_version: nullable({ type: 'integer', description: "the definition version of the membership's last change (null: never a member)" }),
    reason: {
      type: 'null',
      description:
        'always null: the membership store keeps per profile and segment only member, versions and since; the reason of each change ' +
        '(rule_matched, time_elapsed, consent_withdrawn, …) is on its segment-membership-changed event',
    },
    why: {
      type: 'object',
      description: 'the definition (consent gate included) evaluated on the profile now: it agrees with `member` unless the segmenter is catching up',
      required: ['holds', 'conditions', 'tree'],
      properties: {
        holds: { type: 'boolean' },
        conditions: { type: 'array', items: { $ref: 'Explanation#' }, description: 'the leaves that decide: for a member, the conditions that hold' },
        tree: { $ref: 'Explanation#' },
      },
    },
  },
} as const;

export const profileSegmentsSchema = {
  summary: 'The segments a profile is in: since when, and why (the conditions that hold, with the values that made them hold)',
  tags: ['profiles', 'segments'],
  params: { type: 'object', required: ['ref'], properties: { ref } },
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { all: { type: 'integer', enum: [0, 1], default: 0, description: '1: also the segments it is not in, with why not' } },
  },
  response: {
    200: {
      type: 'object',
      required: ['requested', 'profile_id', 'evaluated_at', 'segments'],
      properties: {
        requested: { type: 'string' },
        profile_id: { type: 'string' },
        merged_into: { type: 'string', description: 'present when the ref was the id of a profile merged into another: the live profile' },
        evaluated_at: time,
        segments: { type: 'array', items: membership },
      },
    },
    ...problems(400, 401, 403, 404, 429, 503),
  },
} as const;

export const MAX_MEMBERS_PAGE = 1000;

export const membersSchema = {
  summary:
    'A segment’s members, cursor-paged: pass next_cursor back until it is null. A member present throughout is listed at least once; ' +
    'members may repeat, as Redis SSCAN allows',
  tags: ['segments'],
  params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } },
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      cursor: { type: 'string', minLength: 1, maxLength: 512, description: 'next_cursor of the previous page (opaque)' },
      limit: { type: 'integer', minimum: 1, maximum: MAX_MEMBERS_PAGE, default: 100 },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['segment_id', 'members', 'next_cursor'],
      properties: {
        segment_id: { type: 'string' },
        members: { type: 'array', items: { type: 'object', required: ['profile_id'], properties: { profile_id: { type: 'string' } } } },
        next_cursor: nullable({ type: 'string', description: 'null: the last page' }),
      },
    },
    ...problems(400, 401, 403, 404, 429, 503),
  },
} as const;

export const healthSchema = {
  summary: 'Liveness with Redis checked (no key needed)',
  tags: ['operations'],
  security: [],
  response: {
    200: { $ref: 'Health#' },
    503: { $ref: 'Health#' },
  },
} as const;

export const healthBodySchema = {
  $id: 'Health',
  type: 'object',
  required: ['status', 'checks'],
  properties: { status: { type: 'string', enum: ['ok', 'unhealthy'] }, checks: { type: 'object', additionalProperties: { type: 'boolean' } } },
} as const;

export const metricsSchema = {
  summary: 'Prometheus metrics (scope admin)',
  tags: ['operations'],
  produces: ['text/plain'],
  response: { 200: { type: 'string', description: 'Prometheus text format' }, ...problems(401, 403, 429) },
} as const;

export const docsSchema = {
  summary: 'This OpenAPI 3.1 document (any valid key); with Accept: text/html, a page listing the routes',
  tags: ['operations'],
  response: { 200: { type: 'object', additionalProperties: true }, ...problems(401, 429) },
} as const;

export const SCOPE_DOC = `Bearer API key (\`profile-stream apikey create --scopes …\`); scopes: ${SCOPES.join(', ')}`;

export const MAX_TIMELINE_PAGE = 100;
/** What a timeline item's `type` can be: a clickstream event type (the schema's), or one of the two other raw tables. */
export const TIMELINE_TYPES = [...ClickEventTypeValues, 'purchase', 'support_ticket'] as const;
export type TimelineType = (typeof TIMELINE_TYPES)[number];

export const timelineSchema = {
  summary:
    'The profile’s recent events from the warehouse (its identifiers and those of the profiles merged into it), newest first, cursor-paged: ' +
    'pass next_cursor back until it is null',
  tags: ['profiles'],
  params: { type: 'object', required: ['ref'], properties: { ref } },
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      cursor: { type: 'string', minLength: 1, maxLength: 1024, description: 'next_cursor of the previous page (opaque)' },
      limit: { type: 'integer', minimum: 1, maximum: MAX_TIMELINE_PAGE, default: 50 },
      type: {
        type: 'array',
        items: { type: 'string', enum: TIMELINE_TYPES },
        minItems: 1,
        description: 'only these types (?type=purchase&type=support_ticket)',
      },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['requested', 'profile_id', 'events', 'next_cursor'],
      properties: {
        requested: { type: 'string' },
        profile_id: { type: 'string' },
        merged_into: { type: 'string', description: 'present when the ref was the id of a profile merged into another: the live profile' },
        events: {
          type: 'array',
          items: {
            type: 'object',
            required: ['event_id', 'occurred_at', 'type', 'source', 'details'],
            properties: {
              event_id: { type: 'string' },
              occurred_at: time,
              type: { type: 'string', enum: TIMELINE_TYPES },
              source: { type: 'string', enum: ['clickstream', 'purchases', 'support-tickets'], description: 'the input topic (warehouse table) it came from' },
              details: {
                type: 'object',
                additionalProperties: true,
                description: 'the row’s non-null columns (order, ticket, page, product, device, consent)',
              },
            },
          },
        },
        next_cursor: nullable({ type: 'string', description: 'null: the last page' }),
      },
    },
    ...problems(400, 401, 403, 404, 429, 503),
  },
} as const;
