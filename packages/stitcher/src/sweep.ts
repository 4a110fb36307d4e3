/**
 * Merges left unfinished: a stitcher that stopped after the identity index decided a merge (and before it moved the
 * data or announced it) leaves the merge in the journal. The next chunk that touches the survivor finishes it; this
 * sweep finishes the others (customers with no further events): completes the data move, announces it on
 * profile-merged (the same event id as the decider would have used) with the survivors' new versions on
 * profile-changes (cause merge: the segmenter retires the merged profiles), and settles the journal.
 */
import type { Logger, Producer } from '@profile-stream/consumer-kit';
import type { ContractsRegistry, TopicTable } from '@profile-stream/contracts';
import type { ProfileStore } from '@profile-stream/profile';
import { mergeItems, profileChangeRecords, profileMergedRecords, type ChangeInput } from './steps/publish.ts';

export interface SweepDeps {
  store: ProfileStore;
  registry: ContractsRegistry;
  topics: TopicTable;
  producer: Producer;
  log: Logger;
  now: () => number;
}

/** Finishes journal entries decided at least `olderThanMs` ago; returns how many. */
export async function sweepMerges(d: SweepDeps, olderThanMs: number): Promise<number> {
  const due = (await d.store.resolver.pending()).filter((m) => d.now() - m.decidedAt >= olderThanMs);
  if (due.length === 0) return 0;
  await d.store.resolver.completeAll(due);
  const changes: ChangeInput[] = [];
  for (const root of new Set(due.map((m) => m.root))) {
    const p = await d.store.read(root);
    const last = due.filter((m) => m.root === root).reduce((a, b) => (b.occurredAt > a.occurredAt ? b : a));
    if (p)
      changes.push({
        fold: p,
        triggerEventId: last.triggerEventId,
        occurredAt: last.occurredAt,
        sections: Object.keys(p.doc)
          .filter((s) => s !== 'hw')
          .sort(),
        mergedIds: p.mergedIds,
        cause: 'merge',
      });
  }
  const now = d.now();
  const topicMessages = [await profileMergedRecords(d.registry, d.topics, mergeItems(due, []), now)];
  if (changes.length) topicMessages.push(await profileChangeRecords(d.registry, d.topics, changes, now));
  await d.producer.sendBatch({ acks: -1, topicMessages });
  await d.store.resolver.settle(due);
  d.log.info({ merges: due.length }, 'finished merges another process left unfinished');
  return due.length;
}
