/**
 * Shard leases: each shard of the outbox and the schedule has one owner at a time (a key holding the owner's name with
 * a TTL, renewed while alive), so several segmenter instances split the relay and the scheduler without publishing
 * twice. A dead owner's lease lapses after its TTL and another instance takes the shard over. The relay's
 * acknowledgement checks the lease in the same script that moves the cursor (store/scripts.ts RELAYED), so a relay
 * whose lease lapsed meanwhile moves nothing.
 *
 * Every refresh renews the owned shards and tries the free ones in ONE round trip (a pipeline of one CLAIM per shard),
 * on a timer of its own: under load a Redis reply can take hundreds of ms to be read, and renewals made one shard after
 * another (16 round trips) took longer than the TTL, so shards lapsed while their owner was alive and busy.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '@profile-stream/consumer-kit';
import { scriptCommand, type ScriptCall } from '@profile-stream/profile';

/** CLAIM: KEYS lease. ARGV owner, ttl ms. 1: renewed (was ours), 2: taken (was free), 0: another owner holds it. */
const CLAIM = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]); return 1 end
if v then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 2
`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export interface LeaseOptions {
  key: (shard: number) => string;
  shards: number;
  owner: string;
  ttlMs: number;
  /** How often owned leases are renewed and free ones tried (default ttl/3, at least 200 ms). */
  renewMs?: number;
  log: Logger;
  name: string;
}

export class ShardLeases {
  readonly owned = new Set<number>();
  readonly owner: string;
  /** Per shard, how many times this instance took it: a shard taken again may have been moved on by another owner. */
  private readonly taken = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly redis: Redis;
  private readonly release: ScriptCall<number>;
  private readonly o: LeaseOptions;

  constructor(redis: Redis, o: LeaseOptions) {
    this.o = o;
    this.owner = o.owner;
    this.redis = redis;
    scriptCommand(redis, 'psLeaseClaim', CLAIM, 1);
    this.release = scriptCommand(redis, 'psLeaseRelease', RELEASE, 1);
  }

  /** Renews owned shards and tries to take free ones, all in one round trip. */
  async refresh(): Promise<void> {
    const pipe = this.redis.pipeline() as unknown as {
      psLeaseClaim(key: string, owner: string, ttl: number): void;
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    for (let s = 0; s < this.o.shards; s++) pipe.psLeaseClaim(this.o.key(s), this.o.owner, this.o.ttlMs);
    const replies = (await pipe.exec()) ?? [];
    for (let s = 0; s < this.o.shards; s++) {
      const [err, r] = replies[s] ?? [new Error('no reply')];
      if (err) throw err;
      const had = this.owned.has(s);
      if (r === 1 && had) continue;
      if (r === 0) {
        if (had) this.lost(s, 'another owner holds it');
        continue;
      }
      // Taken (2), or renewed a lease this instance had given up on (1): a new tenure; a worker reloads its cursor.
      if (had) this.o.log.warn({ shard: s, lease: this.o.name }, 'shard lease lapsed and was taken again');
      this.owned.add(s);
      this.taken.set(s, (this.taken.get(s) ?? 0) + 1);
    }
  }

  /** A number that changes each time this instance takes the shard (again): state kept from an older tenure is stale. */
  tenure(shard: number): number {
    return this.taken.get(shard) ?? 0;
  }

  /** The shard is no longer this instance's (its lease is held by another, or lapsed): stop working on it. */
  lost(shard: number, why: string): void {
    if (!this.owned.delete(shard)) return;
    this.o.log.warn({ shard, lease: this.o.name, why }, 'shard lease lost');
  }

  /** Takes what it can now, then keeps renewing on its own timer. Redis being down only delays it. */
  async start(): Promise<void> {
    await this.refresh().catch((err: unknown) => this.o.log.warn({ err: String(err), lease: this.o.name }, 'lease refresh failed'));
    let busy = false;
    this.timer = setInterval(
      () => {
        if (busy) return;
        busy = true;
        this.refresh()
          .catch((err: unknown) => {
            // Without Redis the lease cannot be proven; give the shards up (their TTL runs out anyway).
            this.owned.clear();
            this.o.log.warn({ err: String(err), lease: this.o.name }, 'lease refresh failed');
          })
          .finally(() => {
            busy = false;
          });
      },
      this.o.renewMs ?? Math.max(200, Math.floor(this.o.ttlMs / 3)),
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.owned].map((s) => this.release([this.o.key(s)], [this.o.owner]).catch(() => undefined)));
    this.owned.clear();
  }
}
