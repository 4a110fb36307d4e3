/** Kafka + registry clients (and Redis) for CLI commands, built from the parsed connections. */
import { ContractsRegistry, findTopic, type TopicSpec, type TopicTable } from '@profile-stream/contracts';
import { Redis } from 'ioredis';
import { createKafka, createProducer, errorMessage, ProfileStreamError, type KafkaClient, type Producer } from '@profile-stream/consumer-kit';
import type { CliContext } from './context.ts';

export interface Clients {
  kafka: KafkaClient;
  registry: ContractsRegistry;
  topics: TopicTable;
  producer(): Promise<Producer>;
  /** The topic spec for a name or id, honouring TOPIC_* overrides. */
  topic(nameOrId: string): TopicSpec;
  close(): Promise<void>;
}

/** `topics`: the CLI's (TOPIC_* overrides applied) unless a benchmark passes its own prefixed table. */
export function openClients(ctx: CliContext, topics: TopicTable = ctx.topics): Clients {
  const kafka = createKafka({ brokers: ctx.conn.kafka.brokers, clientId: 'profile-stream-cli', logger: ctx.log });
  const registry = new ContractsRegistry({ host: ctx.conn.registry.url, topics });
  let producer: Promise<Producer> | undefined;
  return {
    kafka,
    registry,
    topics,
    producer() {
      producer ??= (async () => {
        const p = createProducer(kafka);
        await p.connect();
        return p;
      })();
      return producer;
    },
    topic: (nameOrId) => findTopic(topics, nameOrId),
    async close() {
      if (producer) await (await producer).disconnect();
    },
  };
}

/** A Redis connection for a command: fails at once, naming the URL, when Redis does not answer. */
export async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  await redis.connect().catch((err: unknown) => {
    throw new ProfileStreamError('dependency_unavailable', `Redis at ${url} is not reachable (${errorMessage(err)}); is the stack up?`, { cause: err });
  });
  return redis;
}

/** `fn` with a Redis connection of its own (connectRedis), closed when `fn` settles. */
export async function withRedis<T>(url: string, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = await connectRedis(url);
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}
