/**
 * Deploy-time contracts: every schema registered under its TopicNameStrategy subject (BACKWARD), every
 * topic created with the configured partitions, and `<input>.dlq` for each input topic.
 * Part of `stack up`; also what tests call with a per-test topic prefix.
 */
import { ContractsRegistry, type TopicTable } from '@profile-stream/contracts';
import { createKafka, ensureTopics, type Connections, type Logger, type TopicSpec as KafkaTopicSpec } from '@profile-stream/consumer-kit';

export interface ProvisionResult {
  subjects: { subject: string; id: number }[];
  createdTopics: string[];
}

export function topicSpecs(topics: TopicTable, partitions: number): KafkaTopicSpec[] {
  return Object.values(topics).flatMap((t) => [
    { topic: t.topic, partitions },
    ...(t.dlq ? [{ topic: t.dlq, partitions: 1, config: { 'retention.ms': String(30 * 24 * 3600 * 1000) } }] : []),
  ]);
}

export async function provision(conn: Connections, topics: TopicTable, log: Logger): Promise<ProvisionResult> {
  const registry = new ContractsRegistry({ host: conn.registry.url, topics });
  const subjects = await registry.registerAll();
  const kafka = createKafka({ brokers: conn.kafka.brokers, clientId: 'profile-stream-provision', logger: log });
  const createdTopics = await ensureTopics(kafka, topicSpecs(topics, conn.partitions));
  return { subjects: subjects.map((s) => ({ subject: s.subject, id: s.id })), createdTopics };
}
