/**
 * Typed errors with a stable `code`, a `retriable` flag and a `cause` (kafkajs / fastify style).
 * Every code is listed in the README's error table and has a test.
 */
export type ErrorCode =
  | 'config_invalid'
  | 'tool_missing'
  | 'port_in_use'
  | 'stack_not_ready'
  | 'invalid_event'
  | 'not_confluent_framed'
  | 'unknown_schema_id'
  | 'avro_decode_failed'
  | 'dependency_unavailable'
  | 'step_failed';

export interface ProfileStreamErrorOptions {
  retriable?: boolean;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class ProfileStreamError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ProfileStreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProfileStreamError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.details = options.details ?? {};
  }
}

/** A bad setting: names the variable, the value's problem and what is expected. */
export class ConfigError extends ProfileStreamError {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super('config_invalid', `${variable}: ${message}`, { details: { variable } });
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

export function isRetriable(err: unknown): boolean {
  if (err instanceof ProfileStreamError) return err.retriable;
  if (err && typeof err === 'object' && 'retriable' in err) return Boolean((err as { retriable: unknown }).retriable);
  return false;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Errors from a Redis call as the consume loop should see them: connection trouble is retriable (the loop
 * waits and retries, committing nothing meanwhile); a script error (ReplyError) is a bug and is not; typed
 * errors pass through.
 */
export function asRedisError(err: unknown): unknown {
  if (err instanceof ProfileStreamError) return err;
  if (err instanceof Error && err.name === 'ReplyError') return err;
  if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && typeof (err as { retriable?: unknown }).retriable === 'boolean') return err;
  return new ProfileStreamError('dependency_unavailable', `redis: ${errorMessage(err)}`, { retriable: true, cause: err });
}
