/**
 * A chunk's evaluations written per shard in one script call (MembershipStore.applyMany) instead of one call per
 * evaluation: the handler adds each evaluation as it decides it and flushes once the chunk is decided. Order per
 * member holds: evaluations are written in the order they were added (a member's later change after its earlier one,
 * in the same call or a later one), and flushes run one after another. A flush's failure is the result of the
 * evaluations of the shard call that failed, not of the whole batch.
 */
import { ProfileStreamError, type HopTimer } from '@profile-stream/consumer-kit';
import type { ApplyResult, Evaluation } from './store/records.ts';
import type { MembershipStore } from './store/store.ts';

export type Applied = { ok: true; result: ApplyResult } | { ok: false; error: unknown };

/** Members per script call: bounds how long one call holds Redis (a member is ~0.05 ms of script). */
const MAX_PER_CALL = 256;

export class ApplyBatch {
  private readonly store: MembershipStore;
  private readonly hops: HopTimer;
  private queue: { e: Evaluation; ticket: number }[] = [];
  private readonly results: (Applied | undefined)[] = [];
  /** Evaluations added and not yet written, per member. */
  private readonly unwritten = new Map<string, number>();
  private tail: Promise<void> = Promise.resolve();

  constructor(store: MembershipStore, hops: HopTimer) {
    this.store = store;
    this.hops = hops;
  }

  /** Queues an evaluation; its result is there (result(ticket)) once a flush after this call has resolved. */
  add(e: Evaluation): number {
    const ticket = this.results.length;
    this.results.push(undefined);
    this.queue.push({ e, ticket });
    this.unwritten.set(e.pid, (this.unwritten.get(e.pid) ?? 0) + 1);
    return ticket;
  }

  /** Whether an evaluation of `pid` is queued or being written (a retire of it must wait for a flush). */
  pending(pid: string): boolean {
    return this.unwritten.has(pid);
  }

  /** Writes everything queued so far, after any earlier flush; never rejects (failures are results). */
  flush(): Promise<void> {
    const taken = this.queue;
    this.queue = [];
    if (taken.length > 0) this.tail = this.tail.then(() => this.write(taken));
    return this.tail;
  }

  result(ticket: number): Applied {
    const r = this.results[ticket];
    if (r === undefined) throw new ProfileStreamError('step_failed', `evaluation ${ticket} read before a flush wrote it`);
    return r;
  }

  private async write(taken: { e: Evaluation; ticket: number }[]): Promise<void> {
    const byShard = new Map<number, { e: Evaluation; ticket: number }[]>();
    for (const t of taken) {
      const s = this.store.shardOf(t.e.pid);
      const list = byShard.get(s);
      if (list) list.push(t);
      else byShard.set(s, [t]);
    }
    // Shards concurrently (one round trip for all of them when auto-pipelined); a shard's calls in order.
    await Promise.all(
      [...byShard.values()].map(async (list) => {
        for (let i = 0; i < list.length; i += MAX_PER_CALL) {
          const part = list.slice(i, i + MAX_PER_CALL);
          const stops = part.map(() => this.hops.start('apply'));
          try {
            const results = await this.store.applyMany(part.map((t) => t.e));
            part.forEach((t, j) => {
              this.results[t.ticket] = { ok: true, result: results[j]! };
            });
            for (const stop of stops) stop();
          } catch (error) {
            // the rest of the shard is not written either: a member's later evaluation never lands before its earlier
            for (const t of list.slice(i)) this.results[t.ticket] = { ok: false, error };
            return;
          }
        }
      }),
    );
    for (const { e } of taken) {
      const n = this.unwritten.get(e.pid)! - 1;
      if (n === 0) this.unwritten.delete(e.pid);
      else this.unwritten.set(e.pid, n);
    }
  }
}
