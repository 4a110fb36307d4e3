/**
 * What a stitcher holds in memory of a customer erased elsewhere (the API or the CLI erased Redis and published
 * `profile-erased`) leaves it: the cached resolutions of their identifiers (the cache keys are the identifiers), their
 * kept documents and the memoised phone spellings (ProfileStore.forgetErased). Every stitcher process must hear every
 * erasure, so each reads the topic in a consumer group of its own, from the end of the topic when it starts (it held
 * nothing of earlier ones), and deletes that group when it stops (a crashed process's empty group expires with the
 * broker's offsets retention). The group is joined before the stitcher consumes its input, so no erasure published
 * after its first fold is missed. Nothing here decides what is stored: an erased profile is already refused at its
 * fold, whatever a stitcher's memory holds.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { errorMessage, type KafkaClient, type Logger } from '@profile-stream/consumer-kit';
import type { ContractsRegistry, ProfileErased, TopicTable } from '@profile-stream/contracts';
import type { ProfileStore } from '@profile-stream/profile';
import type { Counter } from 'prom-client';

export interface ErasureListenerDeps {
  kafka: KafkaClient;
  topics: TopicTable;
  registry: ContractsRegistry;
  store: ProfileStore;
  log: Logger;
  /** The stitcher's own group: this process's erasure group is named after it. */
  groupId: string;
  /** What erasures took from memory, by kind (resolutions, documents) and erasures heard. */
  forgotten: Counter<'what'>;
  joinTimeoutMs?: number;
}

export interface ErasureListener {
  group: string;
  stop(): Promise<void>;
}

export async function listenForErasures(d: ErasureListenerDeps): Promise<ErasureListener> {
  const group = `${d.groupId}.erasures.${hostname()}.${process.pid}.${randomBytes(3).toString('hex')}`;
  const topic = d.topics['profile-erased'].topic;
  const consumer = d.kafka.consumer({ groupId: group, sessionTimeout: 30_000, heartbeatInterval: 3000 });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      if (message.value === null) return;
      try {
        const e = (await d.registry.decodeRaw<ProfileErased>(message.value, { topic })).value;
        const gone = d.store.forgetErased([e.profile_id, ...e.merged_ids]);
        d.forgotten.inc({ what: 'erasures' });
        d.forgotten.inc({ what: 'resolutions' }, gone.resolutions);
        d.forgotten.inc({ what: 'documents' }, gone.documents);
        d.log.debug({ profile_id: e.profile_id, ...gone }, 'an erased profile left memory');
      } catch (err) {
        // Not a reason to stop stitching: an unreadable record names no profile to forget.
        d.log.warn({ topic, partition, offset: message.offset, err: errorMessage(err) }, 'profile-erased record not read');
      }
    },
  });
  const timeoutMs = d.joinTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    joined,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the erasure listener did not join its group ${group} in ${timeoutMs / 1000} s`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  return {
    group,
    async stop() {
      await consumer.disconnect();
      const admin = d.kafka.admin();
      try {
        await admin.connect();
        await admin.deleteGroups([group]);
      } catch (err) {
        d.log.warn({ group, err: errorMessage(err) }, 'erasure group not deleted (it expires with the offsets retention)');
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
  };
}
