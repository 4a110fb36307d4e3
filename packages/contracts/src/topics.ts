import type { AvroRecordSchema } from './avro.ts';
import { ContractError } from './errors.ts';
import { TOPIC_DEFAULTS, TOPIC_IDS } from './generated/topics.ts';
import type { TopicId } from './generated/topics.ts';

/** One topic after env overrides: the actual name, its TopicNameStrategy subject and (inputs only) its DLQ. */
export interface TopicSpec {
  /** Stable id of the topic (its default name), e.g. `support-tickets`. */
  id: TopicId;
  /** Actual topic name (default, or the env override, with the optional prefix). */
  topic: string;
  /** Env var that overrides the name, e.g. `TOPIC_SUPPORT_TICKETS`. */
  envVar: string;
  /** `<topic>-value`. */
  subject: string;
  schema: AvroRecordSchema;
  /** What the record key is. */
  key: string;
  /** Input topics are consumed from upstream producers and have a DLQ. */
  input: boolean;
  /** `<topic>.dlq` for input topics, else null. */
  dlq: string | null;
}

export type TopicTable = Readonly<Record<TopicId, TopicSpec>>;

export interface ResolveTopicsOptions {
  /** Environment to read `TOPIC_*` overrides from (pass `process.env` from main.ts). Default: no overrides. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Prepended to every topic name, e.g. a per-test prefix so tests do not collide. */
  prefix?: string;
}

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

/** The topic table with env overrides and prefix applied. Throws ContractError `invalid_options` on a bad name. */
export function resolveTopics(options: ResolveTopicsOptions = {}): TopicTable {
  const env = options.env ?? {};
  const prefix = options.prefix ?? '';
  const table = {} as Record<TopicId, TopicSpec>;
  for (const id of TOPIC_IDS) {
    const defaults = TOPIC_DEFAULTS[id];
    const override = env[defaults.envVar];
    const topic = `${prefix}${override === undefined || override === '' ? defaults.topic : override}`;
    if (!LEGAL_TOPIC.test(topic) || topic.endsWith('.dlq')) {
      const source = override ? defaults.envVar : 'prefix';
      throw new ContractError('invalid_options', `${source}: ${JSON.stringify(topic)} is not a legal topic name`, { path: source });
    }
    table[id] = {
      id,
      topic,
      envVar: defaults.envVar,
      subject: `${topic}-value`,
      schema: defaults.schema,
      key: defaults.key,
      input: defaults.input,
      dlq: defaults.input ? `${topic}.dlq` : null,
    };
  }
  const names = new Set(Object.values(table).map((spec) => spec.topic));
  if (names.size !== TOPIC_IDS.length) throw new ContractError('invalid_options', 'two topics resolve to the same name', { path: 'env' });
  return table;
}

/** Finds a topic by actual name or by id. Throws ContractError `unknown_topic`. */
export function findTopic(table: TopicTable, topicOrId: string): TopicSpec {
  const specs = Object.values(table);
  const spec = specs.find((s) => s.topic === topicOrId) ?? specs.find((s) => s.id === topicOrId);
  if (spec === undefined) {
    throw new ContractError('unknown_topic', `unknown topic ${JSON.stringify(topicOrId)} (known: ${specs.map((s) => s.topic).join(', ')})`);
  }
  return spec;
}
