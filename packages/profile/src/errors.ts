/**
 * Typed errors of the profile package. Every event code is a DLQ reason and not retriable (the event itself is
 * wrong); `identity_contention` is the one retriable code.
 *
 * | code                   | meaning                                                                         |
 * |------------------------|---------------------------------------------------------------------------------|
 * | `no_identifier`        | no usable identifier left after normalisation (junk and invalid values dropped) |
 * | `negative_amount`      | a total or price in minor units is negative (refunds carry positive amounts)    |
 * | `negative_quantity`    | an order line's quantity is negative                                            |
 * | `invalid_currency`     | a currency is not an active ISO 4217 code (upper-case, 3 letters, in the list)  |
 * | `future_timestamp`     | occurred_at is later than now + maxFutureMs (default 24 h)                      |
 * | `invalid_timestamp`    | occurred_at is not a non-negative safe integer of epoch milliseconds            |
 * | `invalid_satisfaction` | a CSAT score that is not an integer from 1 to 5                                 |
 * | `invalid_options`      | a configuration option is invalid (`path` names it); a start-up error, not a DLQ |
 * | `identity_contention`  | retriable: identity or a merge kept meeting concurrent changes; the chunk is retried |
 */
export type ProfileErrorCode =
  | 'no_identifier'
  | 'negative_amount'
  | 'negative_quantity'
  | 'invalid_currency'
  | 'future_timestamp'
  | 'invalid_timestamp'
  | 'invalid_satisfaction'
  | 'invalid_options'
  | 'identity_contention';

export interface ProfileErrorInit {
  path?: string;
  cause?: unknown;
  /** Only `identity_contention` is retriable: the event is fine, the moment was not. */
  retriable?: boolean;
}

export class ProfileError extends Error {
  readonly code: ProfileErrorCode;
  /** Dotted path of the offending field (`items.2.quantity`); '' when not about one field. */
  readonly path: string;
  readonly retriable: boolean;

  constructor(code: ProfileErrorCode, message: string, init: ProfileErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ProfileError';
    this.code = code;
    this.path = init.path ?? '';
    this.retriable = init.retriable ?? false;
  }
}

export function isProfileError(err: unknown, code?: ProfileErrorCode): err is ProfileError {
  return err instanceof ProfileError && (code === undefined || err.code === code);
}
