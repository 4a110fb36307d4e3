/**
 * The scheduler: for the shards it leases, hands every profile whose re-evaluation is due to the segmenter as a
 * `profile-changes` record with cause `tick` and occurred_at = the exact due instant (keyed by profile id, so it
 * joins that profile's one writer). A due entry is removed after the tick is acknowledged, and only if it was not
 * rescheduled meanwhile; a crash in between repeats the tick, which changes nothing the second time.
 */
import { runLoop, type ShardWorkerDeps, type Worker } from './shard-worker.ts';

export interface SchedulerDeps extends ShardWorkerDeps {
  tickMs: number;
  /** Due profiles taken per shard and round (default 2000). */
  batch?: number;
}

export type Scheduler = Worker;

export function startScheduler(d: SchedulerDeps): Scheduler {
  const topic = d.topics['profile-changes'].topic;

  /** One round over the owned shards (each step one round trip for all of them); true when some shard had a full batch. */
  async function round(): Promise<boolean> {
    const shards = [...d.leases.owned].sort((a, b) => a - b);
    if (shards.length === 0) return false;
    const now = d.now();
    const limit = d.batch ?? 2000;
    const due = await d.memberships.dueIn(shards, now, limit);
    const items = [...due.values()].flat();
    if (items.length === 0) return false;
    const versions = await d.memberships.versions(items.map(([pid]) => pid));
    const messages = await Promise.all(
      items.map(async ([pid, at], i) => ({
        key: pid,
        value: await d.registry.encodeTrusted(topic, {
          event_id: `tick:${pid}:${at}`,
          profile_id: pid,
          profile_version: versions[i] ?? 0,
          cause: 'tick',
          trigger_event_id: null,
          source_topic: null,
          changed_sections: [],
          occurred_at: at,
          emitted_at: now,
          profile_json: null,
        }),
      })),
    );
    // At most `limit` ticks a request (a backlog over many shards would otherwise make one too large for the broker).
    for (let i = 0; i < messages.length; i += limit)
      await d.producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages: messages.slice(i, i + limit) }] });
    await d.memberships.unscheduleIn(due);
    d.metrics.ticks.inc(items.length);
    return [...due.values()].some((list) => list.length === limit);
  }

  return runLoop('scheduler', d.log, async () => {
    const t0 = Date.now();
    // A full batch means more is due right away; otherwise look again after the tick.
    return (await round()) ? 0 : Math.max(0, d.tickMs - (Date.now() - t0));
  });
}
