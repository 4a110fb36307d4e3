/**
 * The scheduler: for the shards it leases, hands every profile whose re-evaluation is due to the segmenter as a
 * `profile-changes` record with cause `tick` and occurred_at = the exact due instant (keyed by profile id, so it
 * joins that profile's one writer). A due entry is removed after the tick is acknowledged, and only if it was not
 * rescheduled meanwhile; a crash in between repeats the tick, which changes nothing the second time.
 */
import type { Logger, Producer } from '@profile-stream/consumer-kit';
import type { ContractsRegistry, TopicTable } from '@profile-stream/contracts';
import type { ShardLeases } from './leases.ts';
import type { SegmenterMetrics } from './metrics.ts';
import type { MembershipStore } from './store.ts';

export interface SchedulerDeps {
  memberships: MembershipStore;
  leases: ShardLeases;
  registry: ContractsRegistry;
  topics: TopicTable;
  producer: Producer;
  metrics: SegmenterMetrics;
  log: Logger;
  now: () => number;
  tickMs: number;
  /** Due profiles taken per shard and round (default 2000). */
  batch?: number;
}

export interface Scheduler { stop(): Promise<void>; }

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function startScheduler(d: SchedulerDeps): Scheduler {
  const topic = d.topics['profile-changes'].topic;
  let stopped = false;
  let failures = 0;

  /** One round over the owned shards; true when some shard had a full batch (more is due right away). */
  async function round(): Promise<boolean> {
    let more = false;
    for (const shard of [...d.leases.owned].sort((a, b) => a - b)) {
      const now = d.now();
      const due = await d.memberships.dueBefore(shard, now, d.batch ?? 2000);
      if (due.length === 0) continue;
      if (due.length === (d.batch ?? 2000)) more = true;
      const pipe = d.memberships.redis.pipeline();
      for (const [pid] of due) pipe.hget(d.memberships.keys.shard(shard).member(pid), 'pv');
      const versions = ((await pipe.exec()) ?? []).map(([, v]) => Number(v ?? 0));
      const messages = await Promise.all(due.map(async ([pid, at], i) => ({
        key: pid,
        value: await d.registry.encodeTrusted(topic, {
          event_id: `tick:${pid}:${at}`, profile_id: pid, profile_version: versions[i] ?? 0, cause: 'tick', trigger_event_id: null,
          source_topic: null, changed_sections: [], occurred_at: at, emitted_at: now, profile_json: null,
        }),
      })));
      await d.producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages }] });
      await d.memberships.unschedule(shard, due);
      d.metrics.ticks.inc(due.length);
    }
    return more;
  }

  const loop = (async () => {
    while (!stopped) {
      const t0 = Date.now();
      let more = false;
      try {
        more = await round();
        failures = 0;
      } catch (err) {
        failures++;
        d.log.warn({ err: err instanceof Error ? err.message : String(err), failures }, 'scheduler: round failed, retrying');
        await sleep(Math.min(200 * 2 ** Math.min(failures, 4), 3000));
        continue;
      }
      if (!more) await sleep(Math.max(0, d.tickMs - (Date.now() - t0)));
    }
  })();

  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
