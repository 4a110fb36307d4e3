/** What the relay and the scheduler share: their dependencies, and a loop that backs off while Kafka or Redis is down. */
import type { Logger, Producer } from '@profile-stream/consumer-kit';
import type { ContractsRegistry, TopicTable } from '@profile-stream/contracts';
import type { ShardLeases } from './leases.ts';
import type { SegmenterMetrics } from './metrics.ts';
import type { MembershipStore } from './store/store.ts';

export interface ShardWorkerDeps {
  memberships: MembershipStore;
  /** The shards this instance owns. */
  leases: ShardLeases;
  registry: ContractsRegistry;
  topics: TopicTable;
  producer: Producer;
  metrics: SegmenterMetrics;
  log: Logger;
  now: () => number;
}

export interface Worker {
  stop(): Promise<void>;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs `round` until stopped. A failed round is logged and retried with backoff (200 ms doubling to 3 s);
 * `round` must leave nothing half-done that a retry would lose (both workers move their cursors last).
 * `round` returns how long to wait before the next one.
 */
export function runLoop(name: string, log: Logger, round: () => Promise<number>, onFailure: () => void = () => undefined): Worker {
  let stopped = false;
  let failures = 0;
  const loop = (async () => {
    while (!stopped) {
      let wait: number;
      try {
        wait = await round();
        failures = 0;
      } catch (err) {
        failures++;
        onFailure();
        log.warn({ err: err instanceof Error ? err.message : String(err), failures }, `${name}: round failed, retrying`);
        wait = Math.min(200 * 2 ** Math.min(failures, 4), 3000);
      }
      if (wait > 0 && !stopped) await sleep(wait);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
