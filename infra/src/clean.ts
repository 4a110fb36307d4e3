/**
 * `stack clean`: removes what tests and benchmarks leave behind on the stack. Every test names its Redis keys,
 * topics and consumer groups with a prefix starting `t-`, every benchmark with `bench-`; the CLI's `consume` uses
 * throw-away groups named `profile-stream-cli-…`. Nothing of a deployment's own prefix (`REDIS_PREFIX`, default
 * `ps:`) or its topics is touched. Do not run it while tests or benchmarks run: it removes their data too.
 */
import { Redis } from 'ioredis';
import { ConfigError, createKafka, type Connections, type Logger } from '@profile-stream/consumer-kit';

export const SCRATCH_PREFIXES = ['t-', 'bench-'] as const;
const THROWAWAY_GROUPS = ['profile-stream-cli-'];

export interface CleanResult {
  keys: number;
  topics: number;
  groups: number;
}

/** Removes the keys, topics and groups named with one of `prefixes` (default: every test's and benchmark's). */
export async function cleanScratch(conn: Connections, log: Logger, prefixes: readonly string[] = SCRATCH_PREFIXES): Promise<CleanResult> {
  const bad = prefixes.find((p) => !SCRATCH_PREFIXES.some((s) => p.startsWith(s)));
  if (bad !== undefined)
    throw new ConfigError(
      '--prefix',
      `stack clean only removes test and benchmark data: ${JSON.stringify(bad)} does not start with ${SCRATCH_PREFIXES.join(' or ')}`,
    );
  const scratch = (name: string, extra: readonly string[] = []) => [...prefixes, ...extra].some((p) => name.startsWith(p));
  const throwaway = prefixes === SCRATCH_PREFIXES ? THROWAWAY_GROUPS : [];
  const redis = new Redis(conn.redis.url, { maxRetriesPerRequest: 1 });
  let keys = 0;
  try {
    for (const prefix of prefixes) {
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`, 'COUNT', 5000);
        cursor = next;
        if (found.length) keys += await redis.unlink(...found);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }

  const kafka = createKafka({ brokers: conn.kafka.brokers, clientId: 'profile-stream-clean', logger: log });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => scratch(t));
    for (let i = 0; i < topics.length; i += 100) await admin.deleteTopics({ topics: topics.slice(i, i + 100), timeout: 30_000 });
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => scratch(g, throwaway));
    let deleted = 0;
    for (let i = 0; i < groups.length; i += 100) {
      try {
        deleted += (await admin.deleteGroups(groups.slice(i, i + 100))).length;
      } catch (err) {
        // A group with live members cannot be deleted; the others of the batch are (kafkajs reports them on the error).
        const failed = (err as { groups?: { groupId: string }[] }).groups ?? [];
        deleted += Math.min(100, groups.length - i) - failed.length;
        log.warn({ groups: failed.map((g) => g.groupId) }, 'consumer groups in use were kept');
      }
    }
    return { keys, topics: topics.length, groups: deleted };
  } finally {
    await admin.disconnect();
  }
}
