/**
 * Errors of the predict package: ProfileStreamError (contracts) with `invalid_options` (an argument out of its domain,
 * named in the message) or `model_fit_failed` (too few customers, degenerate data, no convergence: the caller keeps the
 * previous model). What the codes mean: the README's "Error codes".
 */
import { ProfileStreamError } from '@profile-stream/contracts/errors';

export type PredictErrorCode = 'invalid_options' | 'model_fit_failed';

export class PredictError extends ProfileStreamError<PredictErrorCode> {
  constructor(code: PredictErrorCode, message: string, init: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, init);
    this.name = 'PredictError';
  }
}
