import { Redis } from 'ioredis';

/**
 * The services' Redis client: commands fail fast while Redis is down (the consume loop sees a retriable error,
 * backs off and retries, committing nothing it has not applied); the client reconnects by itself.
 */
export function createRedis(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}
