/**
 * The shard count a deployment's membership state is placed with (SEGMENTER_SHARDS). A profile's memberships, outbox
 * and schedule live on shard `shardOf(pid, shards)`, so a segmenter, profile API or CLI started with another count
 * reads and writes other keys: a second enter for members it cannot see, exits never sent, wrong member lists. The
 * count is recorded at the first contact with Redis (`<prefix>seg:shards`, SET NX) and every later contact with
 * another count is refused, naming the setting. A deployment older than the record records its count at its first
 * start with it (nothing before could tell which count its state was placed with).
 *
 * A service checks at its start. Redis not answering then does not stop the start (every role waits for Redis by
 * itself): the check goes on in the background, the store's writes and member reads wait for it, and a count found
 * different then ends the service (`onMismatch`).
 */
import type { Redis } from 'ioredis';
import { ConfigError, type Logger, ProfileStreamError } from '@profile-stream/consumer-kit';
import { codeOf, errorMessage } from '@profile-stream/contracts/errors';

/** Records `shards` if no count is recorded under `key`; throws a ConfigError naming SEGMENTER_SHARDS if another is. */
export async function recordShards(redis: Redis, key: string, shards: number): Promise<void> {
  const before = await redis.set(key, String(shards), 'NX', 'GET');
  if (before === null || Number(before) === shards) return;
  throw new ConfigError(
    'SEGMENTER_SHARDS',
    `${shards}, but this deployment's memberships are placed on ${before} shards (recorded in Redis at ${key}); ` +
      `set SEGMENTER_SHARDS=${before} (the count is fixed for a deployment's state: another count needs another REDIS_PREFIX)`,
  );
}

export interface ShardCheck {
  /** Resolves once the count is checked and matches; rejects (retriable) on a mismatch or a stop before that. */
  readonly checked: Promise<void>;
  /** Ends a background check (a service's stop). */
  stop(): void;
}

export interface ShardCheckOptions {
  redis: Redis;
  key: string;
  shards: number;
  log: Logger;
  /** A mismatch found in the background (Redis came up after the start). Default: logged, the process exits 1. */
  onMismatch?: (err: ConfigError) => void;
  /** How long the start waits for the first answer (default 2 s); then the check goes on in the background. */
  firstWaitMs?: number;
  /** Waits between background attempts (default: 250 ms, growing to 2 s). */
  retryMs?: (attempt: number) => number;
}

/**
 * The check at a service's start: a mismatch throws (the start fails with the setting's name); Redis not answering
 * starts the background check. The returned `checked` is what the store's writes and member reads wait for.
 */
export async function checkShardsAtStart(o: ShardCheckOptions): Promise<ShardCheck> {
  // The first attempt waits at most firstWaitMs: a Redis that accepts connections and does not answer must not hold
  // the start either (the attempt, still pending, settles into nothing: the background check asks again).
  const firstAttempt = recordShards(o.redis, o.key, o.shards).then(
    () => 'ok' as const,
    (err: unknown) => err,
  );
  let timer: NodeJS.Timeout | undefined;
  const first = await Promise.race([firstAttempt, new Promise<'slow'>((r) => (timer = setTimeout(() => r('slow'), o.firstWaitMs ?? 2000)))]);
  clearTimeout(timer);
  if (first === 'ok') return { checked: Promise.resolve(), stop: () => undefined };
  if (first instanceof ConfigError) throw first;
  o.log.warn(
    first === 'slow' ? { waitedMs: o.firstWaitMs ?? 2000 } : { err: errorMessage(first), code: codeOf(first) },
    'redis not answering yet: SEGMENTER_SHARDS is checked once it answers',
  );
  const onMismatch =
    o.onMismatch ??
    ((err: ConfigError) => {
      o.log.error({ code: err.code, variable: err.variable }, err.message);
      process.exit(1);
    });
  const retryMs = o.retryMs ?? ((attempt: number) => Math.min(250 * attempt, 2000));
  let stopped = false;
  let wake: (() => void) | undefined;
  let settle!: { resolve: () => void; reject: (err: Error) => void };
  const checked = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  checked.catch(() => undefined); // a stop before the check is not an unhandled rejection when nothing waits
  void (async () => {
    for (let attempt = 1; !stopped; attempt++) {
      try {
        await recordShards(o.redis, o.key, o.shards);
        o.log.info({ shards: o.shards }, 'SEGMENTER_SHARDS checked');
        settle.resolve();
        return;
      } catch (err) {
        if (err instanceof ConfigError) {
          // What waits for the check fails as Redis being down does (retried, never a dead letter).
          settle.reject(new ProfileStreamError('dependency_unavailable', `refused: ${err.message}`, { cause: err }));
          if (!stopped) onMismatch(err);
          return;
        }
      }
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, retryMs(attempt)).unref();
      });
    }
  })();
  return {
    checked,
    stop() {
      stopped = true;
      wake?.();
      settle.reject(new ProfileStreamError('dependency_unavailable', 'stopped before Redis answered: SEGMENTER_SHARDS not checked'));
    },
  };
}
