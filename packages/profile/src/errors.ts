/**
 * Errors of the profile package: ProfileStreamError (contracts) narrowed to the profile's codes, with the offending
 * field's `path`. Every event code is a DLQ reason and not retriable (the event itself is wrong); `identity_contention`
 * is the one retriable code (the event is fine, the moment was not). What each means: the README's "Error codes".
 */
import { ProfileStreamError, type ErrorCode } from '@profile-stream/contracts/errors';

export type ProfileErrorCode = Extract<
  ErrorCode,
  | 'no_identifier'
  | 'negative_amount'
  | 'negative_quantity'
  | 'invalid_currency'
  | 'future_timestamp'
  | 'invalid_timestamp'
  | 'invalid_satisfaction'
  | 'invalid_points'
  | 'unknown_tier'
  | 'invalid_loyalty'
  | 'invalid_options'
  | 'invalid_ref'
  | 'identity_contention'
  | 'profile_erased'
>;

export interface ProfileErrorInit {
  path?: string;
  cause?: unknown;
}

export class ProfileError extends ProfileStreamError<ProfileErrorCode> {
  /** Dotted path of the offending field (`items.2.quantity`); '' when not about one field. */
  readonly path: string;

  constructor(code: ProfileErrorCode, message: string, init: ProfileErrorInit = {}) {
    super(code, message, init.cause === undefined ? {} : { cause: init.cause });
    this.name = 'ProfileError';
    this.path = init.path ?? '';
  }
}

export function isProfileError(err: unknown, code?: ProfileErrorCode): err is ProfileError {
  return err instanceof ProfileError && (code === undefined || err.code === code);
}
