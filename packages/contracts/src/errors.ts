/**
 * The one error model of profile-stream: every error we raise is a ProfileStreamError with a stable `code` (declared
 * with its meaning in error-codes.ts and the README's "Error codes" table), a `retriable` flag and a `cause`
 * (kafkajs / fastify style). Each package narrows it to its own codes and fields: ContractError here, ConfigError
 * (consumer-kit), ProfileError, SegmentDefinitionError, WarehouseError, GeneratorOptionsError.
 * `codeOf()` and `isRetriable()` are the one way to read an error's code and retriability, ours or a library's.
 */
import { ERROR_CODES, type ErrorCode } from './error-codes.ts';

export { ERROR_CODES, type ErrorCode, type ErrorCodeSpec } from './error-codes.ts';

export interface ProfileStreamErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
  /**
   * Decides retriability for codes whose ERROR_CODES entry says `{ when }` (registry_error); for every other code the
   * declared flag holds and this is ignored.
   */
  retriable?: boolean;
}

export class ProfileStreamError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly retriable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: C, message: string, options: ProfileStreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProfileStreamError';
    this.code = code;
    const declared: boolean | { when: string } = ERROR_CODES[code].retriable;
    this.retriable = typeof declared === 'boolean' ? declared : (options.retriable ?? false);
    this.details = options.details ?? {};
  }
}

/** The code of any error: ours, or a library's or Node's string `code` (`ECONNREFUSED`, …); undefined when none. */
export function codeOf(err: unknown): string | undefined {
  if (err instanceof ProfileStreamError) return err.code;
  const code = err !== null && typeof err === 'object' ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** Ours say so; a library error with a `retriable` flag (kafkajs) says so too; anything else is not. */
export function isRetriable(err: unknown): boolean {
  if (err instanceof ProfileStreamError) return err.retriable;
  return err !== null && typeof err === 'object' && 'retriable' in err && Boolean(err.retriable);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One problem found while checking a value against a schema. */
export interface ContractIssue {
  /** Dotted path of the field, array indexes as numbers: `items.0.sku`; '' for the value itself. */
  path: string;
  message: string;
}

/** The codes of the contracts package (see ERROR_CODES for what each means). */
export type ContractErrorCode = Extract<
  ErrorCode,
  'invalid_event' | 'not_confluent_framed' | 'unknown_schema_id' | 'avro_decode_failed' | 'unknown_topic' | 'invalid_options' | 'registry_error'
>;

export interface ContractErrorInit {
  path?: string;
  /** registry_error only: 5xx and unreachable are retriable, 4xx is not. */
  retriable?: boolean;
  cause?: unknown;
  issues?: readonly ContractIssue[];
}

export class ContractError extends ProfileStreamError<ContractErrorCode> {
  /** Path of the (first) offending field or option; '' when not about a field. */
  readonly path: string;
  /** Every problem found (invalid_event); the first one is also in `path` and `message`. */
  readonly issues: readonly ContractIssue[];

  constructor(code: ContractErrorCode, message: string, init: ContractErrorInit = {}) {
    super(code, message, init);
    this.name = 'ContractError';
    this.path = init.path ?? '';
    this.issues = init.issues ?? [];
  }
}

export function isContractError(err: unknown, code?: ContractErrorCode): err is ContractError {
  return err instanceof ContractError && (code === undefined || err.code === code);
}
