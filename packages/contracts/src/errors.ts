/**
 * Typed errors of the contracts package. Every error has a stable `code`:
 *
 * | code                   | retriable | meaning                                                                 |
 * |------------------------|-----------|-------------------------------------------------------------------------|
 * | `invalid_event`        | no        | a value does not match its schema (`path` names the field)              |
 * | `not_confluent_framed` | no        | bytes lack Confluent framing (magic byte 0 + 4-byte schema id + body)   |
 * | `unknown_schema_id`    | no        | the registry does not know the schema id in the frame                   |
 * | `avro_decode_failed`   | no        | the Avro body does not decode with the writer (or reader) schema        |
 * | `unknown_topic`        | no        | a topic that is not in the topic table                                  |
 * | `invalid_options`      | no        | a constructor option or env override is invalid (`path` names it)       |
 * | `registry_error`       | 5xx/network: yes | the schema registry could not be reached or refused a request    |
 */
export type ContractErrorCode =
  | 'invalid_event'
  | 'not_confluent_framed'
  | 'unknown_schema_id'
  | 'avro_decode_failed'
  | 'unknown_topic'
  | 'invalid_options'
  | 'registry_error';

/** One problem found while checking a value against a schema. */
export interface ContractIssue {
  /** Dotted path of the field, array indexes as numbers: `items.0.sku`; '' for the value itself. */
  path: string;
  message: string;
}

export interface ContractErrorInit {
  path?: string;
  retriable?: boolean;
  cause?: unknown;
  issues?: readonly ContractIssue[];
}

export class ContractError extends Error {
  readonly code: ContractErrorCode;
  /** Path of the (first) offending field or option; '' when not about a field. */
  readonly path: string;
  readonly retriable: boolean;
  /** Every problem found (invalid_event); the first one is also in `path` and `message`. */
  readonly issues: readonly ContractIssue[];

  constructor(code: ContractErrorCode, message: string, init: ContractErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ContractError';
    this.code = code;
    this.path = init.path ?? '';
    this.retriable = init.retriable ?? false;
    this.issues = init.issues ?? [];
  }
}

export function isContractError(err: unknown, code?: ContractErrorCode): err is ContractError {
  return err instanceof ContractError && (code === undefined || err.code === code);
}
