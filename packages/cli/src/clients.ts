/** Kafka + registry clients for CLI commands, built from the parsed connections. */
import { ContractsRegistry, findTopic, type TopicSpec, type TopicTable } from '@profile-stream/contracts';
import { createKafka, createProducer, type KafkaClient, type Producer } from '@profile-stream/consumer-kit';
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
