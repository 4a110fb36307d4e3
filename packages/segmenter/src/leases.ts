/**
 * Shard leases: each shard of the outbox and the schedule has one owner at a time (SET NX PX, renewed while
 * alive), so several segmenter instances split the relay and the scheduler without publishing twice. A dead
 * owner's lease lapses after its TTL and another instance takes the shard over.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '@profile-stream/consumer-kit';
import { scriptCommand, type ScriptCall } from '@profile-stream/profile';

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
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
  log: Logger;
  name: string;
}

export class ShardLeases {
  readonly owned = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly redis: Redis;
  private readonly renew: ScriptCall<number>;
  private readonly release: ScriptCall<number>;
  private readonly o: LeaseOptions;

  constructor(redis: Redis, o: LeaseOptions) {
    this.o = o;
    this.redis = redis;
    this.renew = scriptCommand(redis, 'psLeaseRenew', RENEW, 1);
    this.release = scriptCommand(redis, 'psLeaseRelease', RELEASE, 1);
  }

  /** Renews owned shards and tries to take free ones. */
  async refresh(): Promise<void> {
    for (let s = 0; s < this.o.shards; s++) {
      const key = this.o.key(s);
      if (this.owned.has(s)) {
        if (!(await this.renew([key], [this.o.owner, this.o.ttlMs]))) {
          this.owned.delete(s);
          this.o.log.warn({ shard: s, lease: this.o.name }, 'shard lease lost');
        }
      } else if ((await this.redis.set(key, this.o.owner, 'PX', this.o.ttlMs, 'NX')) === 'OK') {
        this.owned.add(s);
      }
    }
  }

  /** Takes what it can now, then keeps renewing every ttl/3. Redis being down only delays it. */
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
      Math.max(200, Math.floor(this.o.ttlMs / 3)),
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const s of this.owned) await this.release([this.o.key(s)], [this.o.owner]).catch(() => undefined);
    this.owned.clear();
  }
}
