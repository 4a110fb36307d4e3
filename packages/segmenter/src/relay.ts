/**
 * The relay: publishes the outbox to `segment-membership-changed`, shard by shard (only the shards it leases).
 * Entries are read after the shard's cursor, published with acks=all, and only then are the cursors moved and
 * the entries dropped (all shards of a round in one Redis round trip, each fenced by its lease: a shard whose lease
 * lapsed meanwhile is left as it was), so a crash at any point republishes (same event ids) and never loses one.
 * A round's acknowledgement overlaps the next round's read (issue 12: ~20 % of a round at 1,000 events/s): the next
 * round reads after the cursors it expects, and publishes only once that acknowledgement is back, without the shards
 * it refused; if it failed, the round fails and the next one starts again from the stored cursors. A round that woke
 * with entries reads once more without waiting, so that the shards a segmenter chunk wrote just after the first one
 * are published in it, not in a round of their own (issue 12, eighth round: half the rounds at 1,000 events/s).
 */
import type { HopTimer } from '@profile-stream/consumer-kit';
import type { Redis } from 'ioredis';
import { runLoop, type ShardWorkerDeps, type Worker } from './shard-worker.ts';
import { accountOfMember } from './accounts.ts';
import { membershipEventId, type OutboxEntry } from './store/records.ts';

export interface RelayDeps extends ShardWorkerDeps {
  /** A connection of its own: XREAD BLOCK holds it. */
  blocking: Redis;
  /** Entries per read (default 2000) and the longest wait for new ones (default 500 ms). */
  batch?: number;
  blockMs?: number;
  /** Times each round's hops (relay_read … relay_cycle). */
  hops: HopTimer;
}

export type Relay = Worker;

/** Appends a follow-up read's entries to the first read's, per shard. */
function mergeRead(into: { shard: number; entries: OutboxEntry[] }[], more: { shard: number; entries: OutboxEntry[] }[]): void {
  for (const m of more) {
    const known = into.find((x) => x.shard === m.shard);
    if (known) known.entries.push(...m.entries);
    else into.push(m);
  }
}

export function startRelay(d: RelayDeps): Relay {
  const topic = d.topics['segment-membership-changed'].topic;
  /** Per owned shard: the position after which it is read, and the lease tenure it was loaded in. */
  const cursors = new Map<number, { at: string; tenure: number }>();
  /** The last round's acknowledgement, in flight while the next round reads. */
  let acked: Promise<void> = Promise.resolve();

  /** Moves the cursors of a published round (in the background: `acked`), dropping the shards whose lease lapsed. */
  function acknowledge(done: { shard: number; ids: string[] }[], round: () => void): Promise<void> {
    const acking = d.hops.start('relay_ack');
    return d.memberships.acknowledge(d.leases.owner, done).then((refused) => {
      for (const s of refused) {
        cursors.delete(s);
        d.leases.lost(s, 'its relay lease was not held when the round was acknowledged');
      }
      acking();
      round(); // a round ends with its acknowledgement
    });
  }

  /** One read-publish-advance round; XREAD BLOCK is the wait, so the next round starts at once. */
  async function once(): Promise<number> {
    const shards = [...d.leases.owned].sort((a, b) => a - b);
    for (const [s, c] of [...cursors]) if (!d.leases.owned.has(s) || c.tenure !== d.leases.tenure(s)) cursors.delete(s);
    if (shards.length === 0) {
      await acked;
      return 250;
    }
    // A shard newly owned (or owned again) starts from its stored cursor (another relay may have moved it).
    const fresh = shards.filter((s) => !cursors.has(s));
    if (fresh.length > 0) {
      const tenures = fresh.map((s) => d.leases.tenure(s));
      const stored = await d.memberships.cursors(fresh);
      for (const [i, s] of fresh.entries()) cursors.set(s, { at: stored.get(s)!, tenure: tenures[i]! });
    }
    const from = new Map(shards.map((s) => [s, cursors.get(s)!.at]));
    const round = d.hops.start('relay_cycle');
    const reading = d.hops.start('relay_read');
    const count = d.batch ?? 2000;
    const all = await d.memberships.readOutbox({ from, count, blockMs: d.blockMs ?? 500, connection: d.blocking });
    if (all.length > 0) {
      // XREAD BLOCK answers as soon as one shard's outbox grows: the segmenter's write of the other shards of the same
      // chunk (pipelined, landing microseconds later) would make a round of their own. One read without waiting
      // gathers them into this round: one produce and one acknowledgement where there were two.
      const after = new Map(from);
      let taken = 0;
      for (const { shard, entries } of all) {
        after.set(shard, entries[entries.length - 1]!.id);
        taken += entries.length;
      }
      if (taken < count) mergeRead(all, await d.memberships.readOutbox({ from: after, count: count - taken, blockMs: null, connection: d.blocking }));
      reading();
    }
    // The last round's acknowledgement first: a shard it refused (lease lapsed) is not published from here.
    await acked;
    const read = all.filter(({ shard }) => cursors.has(shard));
    if (read.length === 0) return 0;
    const now = d.now();
    const encoding = d.hops.start('relay_encode');
    const done = read.map(({ shard, entries }) => ({ shard, ids: entries.map((e) => e.id) }));
    const events = read.flatMap(({ entries }) => entries.map((e) => e.event));
    const messages = await Promise.all(
      events.map(async (e) => {
        // an account's membership (accounts.ts): entity account, profile_id = the account id
        const account = accountOfMember(e.profile_id);
        const member = account === null ? {} : { profile_id: account, entity: 'account' };
        return {
          key: account ?? e.profile_id,
          value: await d.registry.encodeTrusted(topic, { event_id: membershipEventId(e), ...e, ...member, emitted_at: now }),
        };
      }),
    );
    encoding();
    await d.hops.time('relay_produce', () => d.producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages }] }));
    // Every shard's cursor in one round trip, each only where this relay still holds the lease; the next round reads
    // after these entries meanwhile.
    for (const { shard, ids } of done) cursors.get(shard)!.at = ids[ids.length - 1]!;
    acked = acknowledge(done, round);
    acked.catch(() => undefined); // observed by the next round (or stop)
    d.metrics.relayed.inc(events.length);
    for (const e of events) d.metrics.emitLag.observe({ kind: e.reason === 'time_elapsed' ? 'time' : 'event' }, Math.max(0, now - e.occurred_at) / 1000);
    return 0;
  }

  // After a failure nothing moved: the same entries are read and published again (same event ids).
  const loop = runLoop('relay', d.log, once, () => {
    cursors.clear();
    acked = Promise.resolve();
  });
  return {
    async stop() {
      await loop.stop();
      await acked.catch(() => undefined); // the last round's acknowledgement lands (or, failed, is read again later)
    },
  };
}
