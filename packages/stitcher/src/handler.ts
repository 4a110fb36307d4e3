/**
 * The stitcher's batch handler. Phase 1: prepare every event (decode, validate, normalise; independent per event).
 * Phase 2: resolve the chunk's identity in offset order, in one atomic step of the identity index, and complete the
 * data moves of merges pending into the chunk's profiles. Phase 3, per profile: fold the chunk's events of that
 * profile in one atomic script (the fold is order-independent, so grouping is safe). Phase 4: publish profile-changes
 * and profile-merged, then the announced merges leave the identity journal: a deferred effect (BatchContext.defer),
 * acknowledged before the chunk's offset is committed while the next chunk is already being handled.
 */
import { asRedisError, ok, safely, type BatchHandler, type KitMessage, type Logger, type Outcome, type Producer } from '@profile-stream/consumer-kit';
import type { ContractsRegistry, TopicTable } from '@profile-stream/contracts';
import { eventFragment, type AccountStore, type NormalisedIds, type ProfileStore, type Resolution } from '@profile-stream/profile';
import type { StitcherMetrics } from './metrics.ts';
import { isPrepared, type Prepared } from './steps/prepare.ts';
import { mergeItems, profileChangeRecords, profileMergedRecords, type ChangeInput, type OutRecord } from './steps/publish.ts';

export interface HandlerDeps {
  prepare: (m: KitMessage) => Promise<Prepared | Outcome>;
  store: ProfileStore;
  /** Account profiles (B2B): the contacts of a chunk's folds are written to them after the folds. */
  accounts: AccountStore;
  registry: ContractsRegistry;
  topics: TopicTable;
  producer: Producer;
  metrics: StitcherMetrics;
  log: Logger;
  now: () => number;
}

/** The identifiers the event really attached (those over a profile limit are left out of its fragment). */
function attached(ids: NormalisedIds, r: Resolution): NormalisedIds {
  if (r.dropped.length === 0) return ids;
  const out = { ...ids };
  for (const x of r.dropped) delete out[x.type];
  return out;
}

/** Redis failures as the consume loop should see them (transient ones are retried, the chunk uncommitted). */
async function redisStep<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw asRedisError(err);
  }
}

export function stitcherHandler(d: HandlerDeps): BatchHandler {
  return async (messages, ctx) => {
    const outcomes: Outcome[] = new Array(messages.length);
    const prepared: (Prepared | undefined)[] = new Array(messages.length);
    const prepping = ctx.hops.start('prepare');
    await Promise.all(
      messages.map(async (m, i) => {
        outcomes[i] = await safely(
          async (msg) => {
            const p = await d.prepare(msg);
            if (!isPrepared(p)) return p;
            prepared[i] = p;
            return ok();
          },
          m,
          ctx,
        );
      }),
    );
    prepping();
    const ready = prepared.flatMap((p) => (p ? [p] : []));
    if (ready.length === 0) return outcomes;

    // Phases 2–3: identity in offset order (one round trip for the sets not in the cache), then a fold per profile.
    const fragments: object[] = new Array(ready.length);
    const resolving = ctx.hops.start('resolve');
    let folding = () => 0;
    const chunk = await redisStep(() =>
      d.store.stitch(
        ready.map((p, i) => {
          const { dropped: _dropped, ...ids } = p.ids;
          const fragment = (r: Resolution) => {
            fragments[i] = eventFragment(p.topicId, p.event as never, attached(p.ids, r));
            return fragments[i];
          };
          return { ids, eventId: p.event.event_id, occurredAt: p.event.occurred_at, fragment };
        }),
        {
          resolved: () => {
            resolving();
            folding = ctx.hops.start('fold');
          },
        },
      ),
    );
    folding();
    const resolved = ready.map((p, i) => ({ p, resolution: chunk.resolutions[i]! }));
    const changes: ChangeInput[] = chunk.folds.map(({ fold, items }) => {
      d.metrics.folded.inc({ result: 'applied' }, fold.applied);
      d.metrics.folded.inc({ result: 'duplicate' }, fold.duplicates);
      const last = items.map((i) => ready[i]!).reduce((a, b) => (b.event.occurred_at > a.event.occurred_at ? b : a));
      const sections = [...new Set(items.flatMap((i) => Object.keys(fragments[i]!)))].filter((s) => s !== 'hw').sort();
      return {
        fold,
        triggerEventId: last.event.event_id,
        occurredAt: last.event.occurred_at,
        sections,
        mergedIds: fold.mergedIds,
        // the trigger's topic (a stitcher of several topics folds a profile's events of any of them together)
        sourceTopic: d.topics[last.topicId].topic,
      };
    });

    const items = mergeItems(
      chunk.merges,
      resolved.map((r) => ({ resolution: r.resolution, triggerEventId: r.p.event.event_id, occurredAt: r.p.event.occurred_at })),
    );
    for (const { p, resolution: r } of resolved) {
      if (r.created) d.metrics.profilesCreated.inc();
      if (r.merges.length) d.metrics.merges.inc({ outcome: 'merged' }, r.merges.length);
      for (const x of r.refused) {
        d.metrics.merges.inc({ outcome: 'refused' });
        d.log.info({ target: x.target, other: x.other, matched_on: x.matchedOn, reason: x.reason, trigger: p.event.event_id }, 'merge refused');
      }
    }

    const now = d.now();
    // Phase 3b: the account profiles of the folded contacts that have an account (store/accounts.ts: a snapshot per
    // contact, one atomic script per account; idempotent, so a retried chunk writes the same again). Before publishing:
    // a profile change is announced only once its account reflects it.
    const contacts = chunk.folds.map(({ fold }) => fold).filter((f) => f.doc.account !== undefined);
    if (contacts.length) await ctx.hops.time('accounts', () => redisStep(() => d.accounts.apply(contacts, now)));

    // Phase 4: publish, acknowledged before the offsets move; then the announced merges leave the journal.
    const encoding = ctx.hops.start('encode');
    const topicMessages: OutRecord[] = [];
    if (changes.length) topicMessages.push(await profileChangeRecords(d.registry, d.topics, changes, now));
    if (items.length) topicMessages.push(await profileMergedRecords(d.registry, d.topics, items, now));
    encoding();
    // Deferred: the loop handles the next chunk while these records are acknowledged, and commits this chunk only
    // after. Sent again on a retry (at-least-once: a change's event id is stable, consumers de-duplicate).
    ctx.defer(async () => {
      if (topicMessages.length) await ctx.hops.time('produce', () => d.producer.sendBatch({ acks: -1, topicMessages }));
      await ctx.hops.time('settle', () => redisStep(() => d.store.resolver.settle(chunk.merges)));
    });
    return outcomes;
  };
}
