/**
 * Every error code of profile-stream, declared once: whether it is retriable, where it comes from and what it means.
 * The README's "Error codes" table is this table (error-codes.test.ts checks them equal and that every code has a test
 * that produces it). Codes are public: the DLQ carries them in `ps-dlq-reason`, the CLI prints `<code>: <message>`.
 *
 * `retriable` is fixed per code (the error class takes it from here), except where it is `{ when }`: there the place that
 * makes the error decides (a registry answering 5xx is worth waiting for, one answering 4xx is not).
 */
export interface ErrorCodeSpec {
  readonly retriable: boolean | { readonly when: string };
  /** Where the error comes from (package, service or command). */
  readonly source: string;
  readonly meaning: string;
}

export const ERROR_CODES = {
  // Set-up: configuration and the local stack.
  config_invalid: {
    retriable: false,
    source: 'every service and the CLI (config, `run`, `segments show/backfill`)',
    meaning:
      'a setting is malformed, contradicts the deployment’s state (`SEGMENTER_SHARDS` against the count its memberships are placed with), or an argument names a service or segment that does not exist; the message names the variable',
  },
  invalid_options: {
    retriable: false,
    source: 'constructors (contracts, profile, generator), CLI options (`sql --format`, `generate`, `bench`)',
    meaning: 'a bad option to a constructor or a command; the message (and `path` or `option`) names it',
  },
  tool_missing: {
    retriable: false,
    source: 'infra (`stack up`)',
    meaning: 'Java, Maven, Go or a Debian package is missing; the message says how to install it',
  },
  port_in_use: {
    retriable: false,
    source: 'infra (`stack up`)',
    meaning: 'a port of the local stack is taken by a process the stack did not start; the message names the variable to change',
  },
  stack_not_ready: {
    retriable: false,
    source: 'infra (`stack up`, `./profile-stream test`, `demo`)',
    meaning: 'a part did not become ready in time; the message names its log file',
  },
  // Contracts: bytes, schemas, topics.
  invalid_event: {
    retriable: false,
    source: 'contracts (encode, JSON), segmenter, CLI `produce`',
    meaning: 'an event does not fit its schema (the path of the field is in the message)',
  },
  not_confluent_framed: {
    retriable: false,
    source: 'contracts (decode): DLQ reason',
    meaning: 'bytes without the Confluent magic byte and 4-byte schema id (or an empty value)',
  },
  unknown_schema_id: {
    retriable: false,
    source: 'contracts (decode): DLQ reason',
    meaning: 'the schema id in the frame is not in the registry',
  },
  avro_decode_failed: {
    retriable: false,
    source: 'contracts (decode): DLQ reason',
    meaning: 'the body does not decode with the schema its id names (or cannot be read as the reader schema)',
  },
  unknown_topic: {
    retriable: false,
    source: 'contracts (topic table), warehouse (DLQ reason)',
    meaning: 'a topic outside the topic table, or a message from a topic the warehouse does not read',
  },
  registry_error: {
    retriable: { when: '5xx and unreachable' },
    source: 'contracts (registry client)',
    meaning: 'the schema registry failed or refused a request; consumers wait and retry a retriable one instead of dead-lettering',
  },
  // The consume loop.
  dependency_unavailable: {
    retriable: true,
    source: 'consumer-kit (Redis calls), CLI `segments`',
    meaning: 'Redis (or another dependency) is unreachable or answers a transient error (BUSY, LOADING, READONLY, …); the consume loop waits and retries',
  },
  step_failed: {
    retriable: false,
    source: 'consumer-kit (DLQ reason)',
    meaning: 'a processing step threw an error without a code; the message goes to the DLQ',
  },
  // Stitchers: the event is wrong (DLQ reasons), or the moment was.
  no_identifier: {
    retriable: false,
    source: 'profile (validate, identity), stitchers: DLQ reason',
    meaning: 'no usable identifier left after normalisation (junk and invalid values dropped)',
  },
  negative_amount: {
    retriable: false,
    source: 'profile (validate), stitchers: DLQ reason',
    meaning: 'a total or price in minor units is negative (refunds carry positive amounts)',
  },
  negative_quantity: {
    retriable: false,
    source: 'profile (validate), stitchers: DLQ reason',
    meaning: "an order line's quantity is negative",
  },
  invalid_currency: {
    retriable: false,
    source: 'profile (validate), stitchers: DLQ reason',
    meaning: 'a currency is not an active ISO 4217 code',
  },
  future_timestamp: {
    retriable: false,
    source: 'profile (validate), stitchers: DLQ reason',
    meaning: '`occurred_at` is more than `PROFILE_MAX_FUTURE_HOURS` (default 24) ahead of now',
  },
  invalid_timestamp: {
    retriable: false,
    source: 'profile (validate), stitchers: DLQ reason',
    meaning: '`occurred_at` is not a non-negative safe integer of epoch milliseconds',
  },
  invalid_satisfaction: {
    retriable: false,
    source: 'profile (validate), stitchers: DLQ reason',
    meaning: 'a CSAT score that is not an integer from 1 to 5',
  },
  invalid_points: {
    retriable: false,
    source: 'profile (validate loyalty), loyalty stitcher: DLQ reason',
    meaning: 'loyalty points that are not a positive whole number on a points_* event, or points on another type',
  },
  unknown_tier: {
    retriable: false,
    source: 'profile (validate loyalty), loyalty stitcher: DLQ reason',
    meaning: 'a loyalty tier that is not one of `LOYALTY_TIERS`, or none on an enrolled or tier_changed event',
  },
  invalid_loyalty: {
    retriable: false,
    source: 'profile (validate loyalty), loyalty stitcher: DLQ reason',
    meaning: 'an empty `member_id`, or an `expires_at` on anything but points_earned, or not in 1970–2099',
  },
  identity_contention: {
    retriable: true,
    source: 'profile (store: fold, merge, alias walk)',
    meaning: 'a fold or a merge kept meeting concurrent merges (64 rounds, or a merge chain deeper than 32); the chunk is retried',
  },
  profile_erased: {
    retriable: false,
    source: 'profile (store: fold)',
    meaning:
      'a fold into an erased profile (its id was held from before the erasure); stitchers resolve the events again to a new profile, the API answers 404',
  },
  // Reading profiles: the CLI's `profile` and the profile API (whose answers carry the code in problem+json, with
  // the HTTP status the code implies).
  invalid_ref: {
    retriable: false,
    source: 'profile (refs): CLI `profile`, profile API (400)',
    meaning: 'a profile reference is neither a profile id nor `email:`, `phone:`, `user:` or `anon:` with a usable identifier',
  },
  invalid_request: {
    retriable: false,
    source: 'profile API (400)',
    meaning: 'a request breaks its route schema (too many refs, a missing or malformed parameter); the message names the field',
  },
  not_found: {
    retriable: false,
    source: 'profile API (404)',
    meaning: 'no profile owns the reference, or no such route',
  },
  unauthorized: {
    retriable: false,
    source: 'profile API (401, with `WWW-Authenticate: Bearer`)',
    meaning: 'the request has no API key, or the key is unknown, malformed or revoked',
  },
  forbidden: {
    retriable: false,
    source: 'profile API (403)',
    meaning: "the API key lacks the route's scope (`read`, `consent`, `erase`, `admin`)",
  },
  rate_limited: {
    retriable: true,
    source: 'profile API (429, with `Retry-After`)',
    meaning: "the API key used up its requests of the minute (`PROFILE_API_RATE_LIMIT`); retry after the header's seconds",
  },
  // Segments.
  invalid_definition: {
    retriable: false,
    source: 'segments (loader): segmenter start, CLI `segments`',
    meaning: 'a segment file is not valid YAML, breaks the schema, names an unknown field or parameter, or repeats an id',
  },
  // Warehouse.
  migration_failed: {
    retriable: false,
    source: 'warehouse (start)',
    meaning: 'a ClickHouse migration failed or is misnamed; the message names the file and the ClickHouse error; the warehouse does not start',
  },
  clickhouse_unavailable: {
    retriable: true,
    source: 'warehouse (sink, look-ups), CLI `sql`',
    meaning: 'a ClickHouse insert or look-up failed, or no warehouse answers; the warehouse waits and retries the batch (nothing committed)',
  },
  not_read_only: {
    retriable: false,
    source: "warehouse (CLI `sql`, the warehouse's SQL port)",
    meaning: 'a statement that is not a single read',
  },
  degenerate_population: {
    retriable: false,
    source: 'warehouse (RFM breakpoints: CLI `rfm compute`, the RFM_RECOMPUTE_MINUTES schedule)',
    meaning: 'too few customers (RFM_MIN_CUSTOMERS) or equal quintiles: no new breakpoint version; the current one stays (the message says which)',
  },
  timestamp_out_of_range: {
    retriable: false,
    source: 'warehouse (rows): DLQ reason',
    meaning: 'a timestamp outside 1970-01-01 … 2099-12-31 (or not a number)',
  },
  value_too_long: {
    retriable: false,
    source: 'warehouse (rows): DLQ reason',
    meaning: 'an id (> 512), label (> 256) or text (> 16,384 characters) too long for its column',
  },
  value_out_of_range: {
    retriable: false,
    source: 'warehouse (rows): DLQ reason',
    meaning: 'an unsafe integer, a quantity × price overflow, or a profile snapshot that is not JSON',
  },
  clickhouse_rejected: {
    retriable: false,
    source: 'warehouse (sink): DLQ reason',
    meaning: 'ClickHouse refused an entry of a batch for its data (the batch is retried entry by entry; only refused entries go to the DLQ)',
  },
  // Predictions.
  model_fit_failed: {
    retriable: false,
    source: 'predict (BG/NBD and Gamma-Gamma fits), CLI `predict fit`',
    meaning: 'too few customers, degenerate data (nobody bought twice) or no convergence; the message says which, and the previous model is kept',
  },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;
