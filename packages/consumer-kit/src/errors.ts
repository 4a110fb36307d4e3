/**
 * The error model lives in @profile-stream/contracts (errors.ts, error-codes.ts: one base class, one table of codes,
 * codeOf / isRetriable); consumer-kit re-exports it for the services and adds ConfigError and the Redis classification.
 */
import { errorMessage, ProfileStreamError } from '@profile-stream/contracts/errors';

export {
  codeOf,
  ERROR_CODES,
  errorMessage,
  isRetriable,
  ProfileStreamError,
  type ErrorCode,
  type ErrorCodeSpec,
  type ProfileStreamErrorOptions,
} from '@profile-stream/contracts/errors';

/** A bad setting: names the variable, the value's problem and what is expected. */
export class ConfigError extends ProfileStreamError<'config_invalid'> {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super('config_invalid', `${variable}: ${message}`, { details: { variable } });
    this.name = 'ConfigError';
    this.variable = variable;
  }
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
  if (err instanceof ProfileStreamError) return err; // typed already (identity_contention, …)
  if (err instanceof Error && err.name === 'ReplyError') {
    const reply = transientReply(err);
    return reply ? new ProfileStreamError('dependency_unavailable', `redis: ${err.message}`, { cause: err, details: { reply } }) : err;
  }
  return new ProfileStreamError('dependency_unavailable', `redis: ${errorMessage(err)}`, { cause: err });
}
