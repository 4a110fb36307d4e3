/** Round trips a Redis client makes, for tests that assert "in one round trip". */
import type { Redis } from 'ioredis';

/** Counts the requests a client writes to its socket from now on (ioredis writes a pipeline at once: one round trip). */
export async function countWrites(redis: Redis): Promise<{ readonly n: number }> {
  await redis.ping();
  const counter = { n: 0 };
  const stream = redis.stream;
  const write = stream.write.bind(stream) as (...a: unknown[]) => boolean;
  stream.write = ((...a: unknown[]) => {
    counter.n++;
    return write(...a);
  }) as typeof stream.write;
  return counter;
}
