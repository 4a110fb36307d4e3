import { ProfileStreamError } from '@profile-stream/consumer-kit';

/**
 * `--as-of`: `now` (or absent) → `now`; otherwise an ISO-8601 time or epoch milliseconds. The instant a command
 * computes as of (RFM recency ages, predict's fit, score and check): backtests and reproducible tests.
 */
export function parseAsOf(text: string | undefined, now = Date.now()): number {
  if (text === undefined || text === 'now') return now;
  const t = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isSafeInteger(t))
    throw new ProfileStreamError('invalid_options', `--as-of: expected an ISO-8601 time or epoch milliseconds (got ${JSON.stringify(text)})`);
  return t;
}
