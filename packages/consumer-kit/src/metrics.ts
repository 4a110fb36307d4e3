/** The kit's metrics, one registry per process, bounded label sets (topic, outcome, reason code). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface KitMetrics {
  registry: Registry;
  messages: Counter<'topic' | 'outcome'>;
  deadLetters: Counter<'topic' | 'reason'>;
  retries: Counter<'topic'>;
  batchSeconds: Histogram<'topic'>;
  lag: Gauge<'topic' | 'partition'>;
  committed: Counter<'topic'>;
}

export function createKitMetrics(service: string, registry = new Registry()): KitMetrics {
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    messages: new Counter({ name: 'ps_messages_total', help: 'Messages handled, by outcome', labelNames: ['topic', 'outcome'], registers: [registry] }),
    deadLetters: new Counter({
      name: 'ps_dead_letters_total',
      help: 'Messages sent to the DLQ, by reason code',
      labelNames: ['topic', 'reason'],
      registers: [registry],
    }),
    retries: new Counter({ name: 'ps_retries_total', help: 'Retries of retriable failures', labelNames: ['topic'], registers: [registry] }),
    batchSeconds: new Histogram({
      name: 'ps_batch_seconds',
      help: 'Time to handle and commit one chunk',
      labelNames: ['topic'],
      registers: [registry],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    lag: new Gauge({
      name: 'ps_consumer_lag',
      help: 'High watermark minus the next offset to handle',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
    committed: new Counter({ name: 'ps_commits_total', help: 'Offset commits after durable effects', labelNames: ['topic'], registers: [registry] }),
  };
}
