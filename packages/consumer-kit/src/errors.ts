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
 * Redis error replies that say "not now" rather than "never": a script running too long (BUSY), a restart reading its
 * data (LOADING), a replica or a failover (READONLY, MASTERDOWN, NOREPLICAS), Redis Cluster moving slots or failing
 * over (TRYAGAIN, CLUSTERDOWN), persistence failing (MISCONF) or memory full (OOM). The event is fine: waiting helps.
 */
export const TRANSIENT_REDIS_REPLIES = ['BUSY', 'LOADING', 'READONLY', 'MASTERDOWN', 'NOREPLICAS', 'TRYAGAIN', 'CLUSTERDOWN', 'MISCONF', 'OOM'] as const;

function transientReply(err: Error): string | undefined {
  const word = /^([A-Z]+)/.exec(err.message)?.[1];
  return TRANSIENT_REDIS_REPLIES.find((w) => w === word);
}

/**
 * Errors from a Redis call as the consume loop should see them: connection trouble and transient error replies are
 * retriable (the loop waits and retries while heartbeating, committing nothing meanwhile); any other error reply
 * (a script error) is a bug and is not; typed errors pass through.
 */
export function asRedisError(err: unknown): unknown {
  if (err instanceof ProfileStreamError) return err;
  if (err instanceof Error && err.name === 'ReplyError') {
    const reply = transientReply(err);
    return reply ? new ProfileStreamError('dependency_unavailable', `redis: ${err.message}`, { retriable: true, cause: err, details: { reply } }) : err;
  }
  if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && typeof (err as { retriable?: unknown }).retriable === 'boolean') return err;
  return new ProfileStreamError('dependency_unavailable', `redis: ${errorMessage(err)}`, { retriable: true, cause: err });
}
