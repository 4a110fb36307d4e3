/** What every service builds first from its config: logger, topic table, Kafka client, connected producer, registry. */
import { ContractsRegistry, type TopicTable } from '@profile-stream/contracts';
import type { LogLevel } from './config.ts';
import type { Connections } from './connections.ts';
import { createKafka, type KafkaClient } from './kafka.ts';
import { createLogger, type Logger } from './logger.ts';
import { createProducer, type Producer } from './producer.ts';

export interface ServiceParts {
  log: Logger;
  topics: TopicTable;
  kafka: KafkaClient;
  producer: Producer;
  registry: ContractsRegistry;
}

export async function serviceParts(cfg: { service: string; logLevel: LogLevel; conn: Connections; topics: TopicTable }): Promise<ServiceParts> {
  const log = createLogger({ name: cfg.service, level: cfg.logLevel });
  const { topics } = cfg;
  const kafka = createKafka({ brokers: cfg.conn.kafka.brokers, clientId: cfg.service, logger: log });
  const producer = createProducer(kafka);
  await producer.connect();
  return { log, topics, kafka, producer, registry: new ContractsRegistry({ host: cfg.conn.registry.url, topics }) };
}
