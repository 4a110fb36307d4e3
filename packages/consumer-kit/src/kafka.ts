/**
 * The one place that imports kafkajs. Everything else talks to Kafka through these functions, so the
 * client can be swapped (e.g. for @confluentinc/kafka-javascript) without touching services.
 */
// kafkajs, with fixes for 2.2.4 applied before its modules load (its request queue, its per-partition grouping).
import { kafkajs } from './kafkajs-patch.ts';
import pRetry from 'p-retry';
import type { Admin, Kafka as KafkaClient, logCreator as LogCreator } from 'kafkajs';
import type { Logger } from './logger.ts';
import { ProfileStreamError } from './errors.ts';

const { Kafka, logLevel, CompressionTypes, ConfigResourceTypes } = kafkajs;
export { CompressionTypes };
export type { KafkaClient, Admin };

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Milliseconds to wait for a connection before giving up on a broker. */
  connectionTimeout?: number;
  /** Retries of one request before it fails (default 8, with backoff up to 5 s). */
  retries?: number;
}

/** kafkajs log lines go through pino (as objects), at the level pino is set to. */
function pinoLogCreator(logger: Logger): LogCreator {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }) => {
      const { message, ...rest } = log;
      // kafkajs logs transient, internally retried broker answers (leader moved, coordinator loading)
      // at ERROR; real failures reach the caller as thrown errors, so these are warnings here.
      if (level === logLevel.ERROR) child.warn(rest, message);
      else if (level === logLevel.WARN) child.info(rest, message);
      else if (level === logLevel.INFO) child.debug(rest, message);
      else child.trace(rest, message);
    };
}

export function createKafka(options: KafkaOptions): KafkaClient {
  if (!options.brokers.length) throw new ProfileStreamError('config_invalid', 'KAFKA_BROKERS: no broker given');
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeout ?? 3000,
    logLevel: logLevel.INFO,
    logCreator: pinoLogCreator(options.logger),
    retry: { initialRetryTime: 100, retries: options.retries ?? 8, maxRetryTime: 5000 },
  });
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  config?: Record<string, string>;
}

/**
 * Creates missing topics; leaves existing ones (and their partition counts) alone. Returns the created names.
 * Waits until every partition of them has a leader: right after a broker start (or under many concurrent
 * creations) metadata lags, and kafkajs' own wait gives up on "does not host this topic-partition".
 */
export async function ensureTopics(kafka: KafkaClient, topics: TopicSpec[]): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return [];
    await admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((t) => ({
        topic: t.topic,
        numPartitions: t.partitions,
        replicationFactor: -1,
        configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
    await pRetry(
      async () => {
        const { topics: meta } = await admin.fetchTopicMetadata({ topics: missing.map((t) => t.topic) });
        const leaderless = meta.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0));
        if (leaderless.length) throw new Error(`no leader yet for ${leaderless.map((t) => t.name).join(', ')}`);
      },
      { retries: 60, minTimeout: 100, maxTimeout: 500 },
    );
    return missing.map((t) => t.topic);
  } finally {
    await admin.disconnect();
  }
}

/** DescribeConfigs' ConfigSource for a value set on the topic itself (DYNAMIC_TOPIC_CONFIG). */
const TOPIC_CONFIG_SOURCE = 1;

/**
 * Topic-level overrides (source DYNAMIC_TOPIC_CONFIG) of each topic of `topics` that exists, and the effective value of
 * every `names` entry. Topics that do not exist are left out (the broker fails the whole request for one of them).
 */
export async function describeTopicConfigs(
  kafka: KafkaClient,
  topics: string[],
  names: string[] = [],
): Promise<Map<string, { overrides: Record<string, string>; effective: Record<string, string> }>> {
  const out = new Map<string, { overrides: Record<string, string>; effective: Record<string, string> }>();
  if (topics.length === 0) return out;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length === 0) return out;
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: present.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
    });
    for (const r of resources) {
      const overrides: Record<string, string> = {};
      const effective: Record<string, string> = {};
      for (const e of r.configEntries) {
        if (!e.isDefault && e.configSource === TOPIC_CONFIG_SOURCE) overrides[e.configName] = e.configValue;
        if (names.includes(e.configName)) effective[e.configName] = e.configValue;
      }
      out.set(r.resourceName, { overrides, effective });
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Gives existing topics that have a `config` exactly those topic-level overrides, so a stack provisioned before a setting
 * changed converges. kafkajs speaks only the (non-incremental) AlterConfigs request, which replaces a topic's whole set
 * of overrides: the full `config` is sent, and only for topics whose overrides differ. Returns the topics changed.
 */
export async function alignTopicConfigs(kafka: KafkaClient, topics: TopicSpec[]): Promise<string[]> {
  const wanted = topics.filter((t) => t.config && Object.keys(t.config).length > 0);
  const current = await describeTopicConfigs(
    kafka,
    wanted.map((t) => t.topic),
  );
  const differ = wanted.filter((t) => {
    const now = current.get(t.topic)?.overrides;
    if (!now) return false;
    const want = t.config!;
    return Object.keys(now).length !== Object.keys(want).length || Object.entries(want).some(([k, v]) => now[k] !== v);
  });
  if (differ.length === 0) return [];
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.alterConfigs({
      validateOnly: false,
      resources: differ.map((t) => ({
        type: ConfigResourceTypes.TOPIC,
        name: t.topic,
        configEntries: Object.entries(t.config!).map(([name, value]) => ({ name, value })),
      })),
    });
    return differ.map((t) => t.topic);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Ready means: metadata answers and the group coordinator is up (its first use creates
 * __consumer_offsets, which otherwise makes the first consumer wait).
 */
export async function probeKafka(kafka: KafkaClient): Promise<{ brokers: number; topics: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    const topics = await admin.listTopics();
    await admin.describeGroups(['profile-stream-readiness-probe']);
    return { brokers: cluster.brokers.length, topics: topics.length };
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(kafka: KafkaClient, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    // the broker's deletion can take longer than kafkajs's 5 s default on a loaded machine
    if (present.length) await admin.deleteTopics({ topics: present, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

/**
 * True when `groupId` has committed the current end of every partition of every topic (false while a fresh
 * broker does not report the partitions yet). With `admin`, that connected client is used (pollers keep one).
 */
export async function committedToEnd(kafka: KafkaClient, groupId: string, topics: string[], admin?: Admin): Promise<boolean> {
  const a = admin ?? kafka.admin();
  if (!admin) await a.connect();
  try {
    for (const topic of topics) {
      const ends = await a.fetchTopicOffsets(topic);
      if (ends.length === 0) return false;
      const [committed] = await a.fetchOffsets({ groupId, topics: [topic] });
      for (const e of ends) {
        const c = committed!.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1';
        if (e.high !== '0' && BigInt(c) < BigInt(e.high)) return false;
      }
    }
    return true;
  } finally {
    if (!admin) await a.disconnect();
  }
}
