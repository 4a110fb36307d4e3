/**
 * Deploy-time contracts: every schema registered under its TopicNameStrategy subject (BACKWARD), every
 * topic created with the configured partitions, and `<input>.dlq` for each input topic.
 * Part of `stack up`; also what tests call with a per-test topic prefix.
 *
 * Retention (what an erase cannot reach, and for how long):
 * - input topics keep raw events, PII included, for INPUT_RETENTION_DAYS (`retention.ms`);
 * - their DLQs keep failed input for DLQ_RETENTION_MS, so it can be replayed after a fix;
 * - `profile-changes` is keyed by profile id and compacted (`compact,delete`): an erase publishes a record per erased
 *   pid with no profile, which supersedes that pid's earlier records. `max.compaction.lag.ms` (PROFILE_TOPIC_COMPACTION_HOURS)
 *   bounds how long a superseded record stays: Kafka rolls the active segment on the first write after
 *   min(segment.ms, max.compaction.lag.ms) and the cleaner (every log.cleaner.backoff.ms, 15 s) must clean a log whose
 *   oldest dirty record is older than the lag. The active segment is never cleaned, and it rolls only on a write.
 * Provisioning also aligns the overrides of topics that exist already, so a stack converges when a setting changes.
 */
import { ContractsRegistry, type TopicTable } from '@profile-stream/contracts';
import {
  alignTopicConfigs,
  createKafka,
  describeTopicConfigs,
  dlqTopicOf,
  ensureTopics,
  env,
  parseSettings,
  setting,
  type Connections,
  type Env,
  type KafkaClient,
  type Logger,
  type TopicSpec as KafkaTopicSpec,
} from '@profile-stream/consumer-kit';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
export const DLQ_RETENTION_MS = 30 * DAY_MS;

export const TOPIC_POLICY_SETTINGS = {
  INPUT_RETENTION_DAYS: setting(
    env.int(7, 1, 3650),
    '`retention.ms` of the input topics: raw events (PII included) stay in Kafka this long; an erase cannot reach them',
  ),
  PROFILE_TOPIC_COMPACTION_HOURS: setting(
    env.int(24, 1, 24 * 30),
    '`max.compaction.lag.ms` of `profile-changes`: the bound until an erased profile’s earlier records are compacted away',
  ),
};

/** How provisioning configures the topics (milliseconds). */
export interface TopicPolicy {
  inputRetentionMs: number;
  compactionLagMs: number;
}

export const DEFAULT_TOPIC_POLICY: TopicPolicy = { inputRetentionMs: 7 * DAY_MS, compactionLagMs: 24 * HOUR_MS };

export function loadTopicPolicy(e: Env): TopicPolicy {
  const c = parseSettings(TOPIC_POLICY_SETTINGS, e);
  return { inputRetentionMs: c.INPUT_RETENTION_DAYS * DAY_MS, compactionLagMs: c.PROFILE_TOPIC_COMPACTION_HOURS * HOUR_MS };
}

/** The topic-level overrides of `profile-changes`. */
export function compactedTopicConfig(compactionLagMs: number): Record<string, string> {
  return {
    'cleanup.policy': 'compact,delete',
    'max.compaction.lag.ms': String(compactionLagMs),
    'min.compaction.lag.ms': '0',
    // the roll deadline is min(segment.ms, max.compaction.lag.ms) anyway; said explicitly
    'segment.ms': String(compactionLagMs),
    // only null-valued records are tombstones here, and nothing produces them: a short bound costs nothing
    'delete.retention.ms': String(Math.min(compactionLagMs, HOUR_MS)),
  };
}

export interface ProvisionResult {
  subjects: { subject: string; id: number }[];
  createdTopics: string[];
  /** Existing topics whose overrides were changed to the policy. */
  alignedTopics: string[];
  /** Existing topics with another partition count than TOPIC_PARTITIONS (kept: see `partitionMismatches`). */
  otherPartitions: { topic: string; partitions: number }[];
}

/**
 * Existing topics whose partition count is not the spec's. They are reported, never changed: a key's partition is
 * hash(key) mod count, so more partitions would put a profile's later records beside, not after, its earlier ones,
 * and `profile-changes`' compaction, which removes an erased profile's earlier records, only supersedes records
 * in the same partition. The count is chosen when a deployment's topics are created.
 */
export async function partitionMismatches(kafka: KafkaClient, specs: readonly KafkaTopicSpec[]): Promise<{ topic: string; partitions: number }[]> {
  if (specs.length === 0) return [];
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
    const counts = new Map(topics.map((t) => [t.name, t.partitions.length]));
    return specs.flatMap((s) => {
      const n = counts.get(s.topic);
      return n === undefined || n === s.partitions ? [] : [{ topic: s.topic, partitions: n }];
    });
  } finally {
    await admin.disconnect();
  }
}

export function topicSpecs(topics: TopicTable, partitions: number, policy: TopicPolicy = DEFAULT_TOPIC_POLICY): KafkaTopicSpec[] {
  return Object.values(topics).flatMap((t): KafkaTopicSpec[] => {
    const config = t.input
      ? { 'retention.ms': String(policy.inputRetentionMs) }
      : t.id === 'profile-changes'
        ? compactedTopicConfig(policy.compactionLagMs)
        : undefined;
    return [
      { topic: t.topic, partitions, ...(config ? { config } : {}) },
      ...(t.dlq ? [{ topic: t.dlq, partitions: 1, config: { 'retention.ms': String(DLQ_RETENTION_MS) } }] : []),
    ];
  });
}

export async function provision(conn: Connections, topics: TopicTable, log: Logger, policy: TopicPolicy = DEFAULT_TOPIC_POLICY): Promise<ProvisionResult> {
  const registry = new ContractsRegistry({ host: conn.registry.url, topics });
  const subjects = await registry.registerAll();
  const kafka = createKafka({ brokers: conn.kafka.brokers, clientId: 'profile-stream-provision', logger: log });
  const specs = topicSpecs(topics, conn.partitions, policy);
  const createdTopics = await ensureTopics(kafka, specs);
  const alignedTopics = await alignTopicConfigs(
    kafka,
    specs.filter((s) => !createdTopics.includes(s.topic)),
  );
  if (alignedTopics.length) log.info({ topics: alignedTopics }, 'topic configs aligned with the retention settings');
  const otherPartitions = await partitionMismatches(
    kafka,
    specs.filter((s) => !createdTopics.includes(s.topic)),
  );
  if (otherPartitions.length)
    log.warn(
      { topics: otherPartitions, TOPIC_PARTITIONS: conn.partitions },
      `TOPIC_PARTITIONS=${conn.partitions} applies to topics created from now on: ${otherPartitions.map((t) => `${t.topic} has ${t.partitions}`).join(', ')} (kept: a topic's partition count is chosen when it is created)`,
    );
  return { subjects: subjects.map((s) => ({ subject: s.subject, id: s.id })), createdTopics, alignedTopics, otherPartitions };
}

/** One topic's retention as the broker applies it (its overrides, or the broker's defaults). */
export interface TopicRetention {
  topic: string;
  cleanupPolicy: string;
  retentionMs: number;
  /** Only for compacted topics. */
  maxCompactionLagMs: number | undefined;
  segmentMs: number;
}

const RETENTION_CONFIGS = ['cleanup.policy', 'retention.ms', 'max.compaction.lag.ms', 'segment.ms'];

/** The retention of each existing topic of `names` (topics that do not exist are left out). */
export async function topicRetention(kafka: KafkaClient, names: string[]): Promise<TopicRetention[]> {
  const configs = await describeTopicConfigs(kafka, names, RETENTION_CONFIGS);
  return names.flatMap((topic) => {
    const c = configs.get(topic)?.effective;
    if (!c) return [];
    const cleanupPolicy = c['cleanup.policy'] ?? 'delete';
    return [
      {
        topic,
        cleanupPolicy,
        retentionMs: Number(c['retention.ms']),
        maxCompactionLagMs: cleanupPolicy.includes('compact') ? Number(c['max.compaction.lag.ms']) : undefined,
        segmentMs: Number(c['segment.ms']),
      },
    ];
  });
}

/** Every topic of the table and the DLQ it may have (provisioned for inputs, made by consumers for the others). */
export function topicNames(topics: TopicTable): string[] {
  return Object.values(topics).flatMap((t) => [t.topic, t.dlq ?? dlqTopicOf(t.topic)]);
}

/** `7 d`, `24 h`, `90 s`, `forever` (-1): a duration of a topic config, readable. */
export function formatRetention(ms: number | undefined): string {
  if (ms === undefined || Number.isNaN(ms)) return '';
  if (ms < 0) return 'forever';
  for (const [unit, size] of [
    ['d', DAY_MS],
    ['h', HOUR_MS],
    ['min', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  }
  return `${ms} ms`;
}
