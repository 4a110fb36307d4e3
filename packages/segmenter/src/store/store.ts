/**
 * MembershipStore: segment membership in Redis. Per profile the stored membership of every segment, the outbox of
 * membership events not yet relayed to Kafka, and the schedule of clock-driven re-evaluations (key layout: keys.ts;
 * the atomic steps and the outbox record's fields: scripts.ts). Callers go through its methods, never its connection.
 */
import type { Redis } from 'ioredis';
import { ProfileStreamError } from '@profile-stream/consumer-kit';
import { segmentKeys, shardOf, type SegmentKeys } from './keys.ts';
import type { ApplyResult, Decision, Evaluation, MembershipState, OutboxEntry, StoredMembership } from './records.ts';
import { membershipScripts, parseOutbox, queueRelayed, queueUnschedule, type MembershipScripts } from './scripts.ts';
import { WrittenStates, type Planned } from './written.ts';

type XReadReply = [string, [string, string[]][]][] | null;

export interface OutboxRead {
  /** The position after which each shard is read (its cursor, or the last id seen). */
  from: ReadonlyMap<number, string>;
  count: number;
  /** The longest wait for a first entry; null: no wait (what is there now). */
  blockMs: number | null;
  /** A connection of its own: XREAD BLOCK holds it for up to blockMs. */
  connection: Redis;
}

/** A relay round's published entries of one shard, oldest first (not empty). */
export interface RelayAck {
  shard: number;
  ids: readonly string[];
}

export class MembershipStore {
  readonly keys: SegmentKeys;
  readonly shards: number;
  private readonly redis: Redis;
  private readonly scripts: MembershipScripts;
  private readonly written: WrittenStates;
  private readonly remember: boolean;
  private readonly placed: Promise<void>;

  /**
   * `remember: false`: every evaluation is sent whole (the reference a test compares the partial sends with).
   * `placed`: writes and the reads that answer users (a member's state, member lists, sizes) wait for it (a service's
   * check of its shard count, placement.ts) and fail as it fails.
   */
  constructor(redis: Redis, o: { prefix: string; shards: number; remember?: boolean; placed?: Promise<void> }) {
    this.redis = redis;
    this.placed = o.placed ?? Promise.resolve();
    this.keys = segmentKeys(o.prefix);
    this.shards = o.shards;
    this.scripts = membershipScripts(redis);
    this.remember = o.remember !== false;
    this.written = new WrittenStates();
  }

  private shardKeys(pid: string) {
    const k = this.keys.shard(shardOf(pid, this.shards));
    return { ...k, state: k.member(pid) };
  }

  /** The shard of a member's state (profiles and accounts alike). */
  shardOf(pid: string): number {
    return shardOf(pid, this.shards);
  }

  /** Writes the decisions of one evaluation (changes + outbox records + schedule) in one atomic step. */
  async apply(pid: string, profileVersion: number, trigger: string | null, decisions: readonly Decision[]): Promise<ApplyResult> {
    return (await this.applyMany([{ pid, profileVersion, trigger, decisions }]))[0]!;
  }

  /**
   * Writes the evaluations of members of ONE shard in one script call, in order (a member's later evaluation after its
   * earlier one: the version guard judges each against what the ones before it wrote), each atomic as apply() is.
   * Only the decisions that change what this process last wrote are sent (written.ts); an evaluation APPLY refuses
   * because another writer moved the state on is sent again whole, in a second call. A member that comes more than once
   * in a call is sent whole each time (a refused earlier evaluation must not land after its later one).
   * Returns each evaluation's result, in order.
   */
  async applyMany(evaluations: readonly Evaluation[]): Promise<ApplyResult[]> {
    if (evaluations.length === 0) return [];
    await this.placed;
    const counts = new Map<string, number>();
    for (const e of evaluations) counts.set(e.pid, (counts.get(e.pid) ?? 0) + 1);
    const plans = evaluations.map((e) => this.written.plan(e, !this.remember || counts.get(e.pid)! > 1));
    const results = await this.applyPlanned(evaluations, plans);
    const again = results.flatMap((r, i) => (r === 'recheck' ? [i] : []));
    if (again.length > 0) {
      const whole = again.map((i) => evaluations[i]!);
      const second = await this.applyPlanned(
        whole,
        whole.map((e) => this.written.plan(e, true)),
      );
      again.forEach((i, j) => {
        results[i] = second[j]!;
      });
    }
    return results.map((r) => {
      // a whole evaluation names no write count: APPLY never refuses it so
      if (r === 'recheck') throw new ProfileStreamError('step_failed', 'APPLY refused a whole evaluation (recheck)');
      return r;
    });
  }

  /** One APPLY call; remembers what it wrote. 'recheck': refused, the state moved on since the plan. */
  private async applyPlanned(evaluations: readonly Evaluation[], plans: readonly Planned[]): Promise<(ApplyResult | 'recheck')[]> {
    const shard = this.shardOf(evaluations[0]!.pid);
    const k = this.keys.shard(shard);
    const keys = [k.outbox, k.due];
    const args: (string | number)[] = [k.membersPrefix];
    evaluations.forEach((e, i) => {
      if (this.shardOf(e.pid) !== shard)
        throw new ProfileStreamError('invalid_options', `evaluations: applyMany takes members of one shard (${e.pid} is not in shard ${shard})`);
      const plan = plans[i]!;
      keys.push(k.member(e.pid));
      args.push(e.pid, e.profileVersion, e.trigger ?? '', plan.expect, plan.decisions.length);
      for (const d of plan.decisions) {
        args.push(
          d.segment,
          d.definitionVersion,
          d.member ? 1 : 0,
          d.reason,
          Math.round(d.occurredAt),
          d.nextChangeAt === null ? '' : Math.round(d.nextChangeAt),
          JSON.stringify(d.traits),
        );
      }
    });
    const reply = await this.scripts.apply(keys, args);
    return evaluations.map((e, i) => {
      const [kind, x, w] = [reply[3 * i], reply[3 * i + 1], reply[3 * i + 2]];
      if (kind === 'ok') {
        if (this.remember) this.written.wrote(e, plans[i]!, Number(w));
        return { kind, emitted: Number(x) };
      }
      this.written.forget(e.pid);
      if (kind === 'recheck') return 'recheck';
      if (kind === 'stale') return { kind, profileVersion: Number(x) };
      return { kind: 'dead', dead: String(x) };
    });
  }

  /** The profile leaves every segment (merged into `survivor`, or erased) and is marked dead. Returns exits. */
  async retire(pid: string, how: { merged_into: string } | { erased: true }, occurredAt: number, trigger: string | null): Promise<number> {
    await this.placed;
    const k = this.shardKeys(pid);
    const [mark, reason] = 'merged_into' in how ? [`merged:${how.merged_into}`, 'profile_merged'] : ['erased', 'profile_erased'];
    return this.scripts.retire([k.state, k.outbox, k.due], [pid, mark, reason, Math.round(occurredAt), trigger ?? '', k.membersPrefix]);
  }

  async read(pid: string): Promise<MembershipState> {
    await this.placed;
    const h = await this.redis.hgetall(this.shardKeys(pid).state);
    const segments = new Map<string, StoredMembership>();
    const due = new Map<string, number>();
    for (const [f, v] of Object.entries(h)) {
      if (f.startsWith('s:')) {
        const [m, n, dv, at] = v.split(',').map(Number);
        segments.set(f.slice(2), { member: m === 1, version: n!, definitionVersion: dv!, occurredAt: at! });
      } else if (f.startsWith('d:')) due.set(f.slice(2), Number(v));
    }
    return { profileVersion: h.pv === undefined ? -1 : Number(h.pv), dead: h.dead ?? null, segments, due };
  }

  /** The profile version last evaluated, per profile (0 when never evaluated): what a scheduled tick carries. */
  async versions(pids: readonly string[]): Promise<number[]> {
    const pipe = this.redis.pipeline();
    for (const pid of pids) pipe.hget(this.shardKeys(pid).state, 'pv');
    return ((await pipe.exec()) ?? []).map(([, v]) => Number(v ?? 0));
  }

  /** Every entry of one shard's outbox, oldest first (tools and tests; the relay reads with readOutbox). */
  async outbox(shard: number): Promise<OutboxEntry[]> {
    const entries = await this.redis.xrange(this.keys.shard(shard).outbox, '-', '+');
    return entries.map(([id, fields]) => ({ id, event: parseOutbox(fields) }));
  }

  /** New outbox entries of the given shards (XREAD BLOCK: waits up to blockMs for some); only shards that have any. */
  async readOutbox(o: OutboxRead): Promise<{ shard: number; entries: OutboxEntry[] }[]> {
    const shards = [...o.from.keys()];
    const keys = shards.map((s) => this.keys.shard(s).outbox);
    const block = o.blockMs === null ? [] : ['BLOCK', o.blockMs];
    const reply = (await o.connection.xread(
      'COUNT',
      o.count,
      ...(block as ['BLOCK', number]),
      'STREAMS',
      ...keys,
      ...shards.map((s) => o.from.get(s)!),
    )) as XReadReply;
    return (reply ?? []).map(([key, entries]) => ({
      shard: shards[keys.indexOf(key)]!,
      entries: entries.map(([id, fields]) => ({ id, event: parseOutbox(fields) })),
    }));
  }

  /**
   * Entries published, for every shard of a relay round in ONE round trip (a pipeline of one RELAYED script per shard,
   * each atomic on its shard's keys): each shard's cursor moves to its last id and the entries leave its outbox, where
   * `owner` still holds the shard's relay lease. Returns the shards whose lease it no longer held (nothing moved there).
   */
  async acknowledge(owner: string, acks: readonly RelayAck[]): Promise<number[]> {
    if (acks.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const { shard, ids } of acks) {
      const k = this.keys.shard(shard);
      queueRelayed(pipe, [k.outbox, k.relayed, k.lease.relay], [owner, ids[ids.length - 1]!, ...ids]);
    }
    const replies = (await pipe.exec()) ?? [];
    const refused: number[] = [];
    for (const [i, [err, n]] of replies.entries()) {
      if (err) throw err;
      if (Number(n) < 0) refused.push(acks[i]!.shard);
    }
    return refused;
  }

  /** Entries of one shard marked relayed with no lease check (tools, while no relay runs): the cursor moves, they leave. */
  async relayed(shard: number, lastId: string, ids: string[]): Promise<void> {
    const k = this.keys.shard(shard);
    await this.scripts.relayed([k.outbox, k.relayed, k.lease.relay], ['', lastId, ...ids]);
  }

  /** The stored cursor of each shard ('0-0': nothing relayed yet), in one round trip. */
  async cursors(shards: readonly number[]): Promise<Map<number, string>> {
    const pipe = this.redis.pipeline();
    for (const s of shards) pipe.get(this.keys.shard(s).relayed);
    const replies = (await pipe.exec()) ?? [];
    return new Map(
      shards.map((s, i) => {
        const [err, v] = replies[i]!;
        if (err) throw err;
        return [s, (v as string | null) ?? '0-0'];
      }),
    );
  }

  async cursor(shard: number): Promise<string> {
    return (await this.cursors([shard])).get(shard)!;
  }

  /** Profiles due at or before `now` in one shard: [pid, due][]. */
  async dueBefore(shard: number, now: number, limit: number): Promise<[string, number][]> {
    return (await this.dueIn([shard], now, limit)).get(shard)!;
  }

  /** Profiles due at or before `now`, up to `limit` per shard, in each of the given shards, in one round trip. */
  async dueIn(shards: readonly number[], now: number, limit: number): Promise<Map<number, [string, number][]>> {
    const pipe = this.redis.pipeline();
    for (const s of shards) pipe.zrangebyscore(this.keys.shard(s).due, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit);
    const replies = (await pipe.exec()) ?? [];
    return new Map(
      shards.map((s, i) => {
        const [err, r] = replies[i]!;
        if (err) throw err;
        const flat = r as string[];
        const out: [string, number][] = [];
        for (let j = 0; j + 1 < flat.length; j += 2) out.push([flat[j]!, Number(flat[j + 1])]);
        return [s, out];
      }),
    );
  }

  /** Removes due entries that were handed on, unless they were rescheduled meanwhile. */
  async unschedule(shard: number, items: [string, number][]): Promise<void> {
    await this.unscheduleIn(new Map([[shard, items]]));
  }

  /** unschedule() for several shards in one round trip. */
  async unscheduleIn(items: ReadonlyMap<number, [string, number][]>): Promise<void> {
    const pipe = this.redis.pipeline();
    for (const [s, list] of items) if (list.length > 0) queueUnschedule(pipe, this.keys.shard(s).due, list.flat());
    if (pipe.length === 0) return;
    for (const [err] of (await pipe.exec()) ?? []) if (err) throw err;
  }

  /** Every member of a segment, over all shards. */
  async members(segment: string): Promise<string[]> {
    await this.placed;
    const ids: string[] = [];
    for (let s = 0; s < this.shards; s++) ids.push(...(await this.redis.smembers(this.keys.shard(s).members(segment))));
    return ids;
  }

  /** One SSCAN step over a segment's members in one shard: cursor '0' starts, a next cursor of '0' ends the shard. */
  async scanMembers(segment: string, shard: number, cursor: string, count: number): Promise<{ next: string; members: string[] }> {
    await this.placed;
    const [next, members] = await this.redis.sscan(this.keys.shard(shard).members(segment), cursor, 'COUNT', count);
    return { next, members };
  }

  /** Members of a segment over all shards (count), and up to `sample` member ids. */
  async size(segment: string, sample = 0): Promise<{ members: number; sample: string[] }> {
    await this.placed;
    const pipe = this.redis.pipeline();
    for (let s = 0; s < this.shards; s++) pipe.scard(this.keys.shard(s).members(segment));
    const r = (await pipe.exec()) ?? [];
    const members = r.reduce((a, [, n]) => a + Number(n ?? 0), 0);
    const ids: string[] = [];
    for (let s = 0; s < this.shards && ids.length < sample; s++) {
      ids.push(...(await this.redis.srandmember(this.keys.shard(s).members(segment), sample - ids.length)));
    }
    return { members, sample: ids.sort() };
  }

  /** Scheduled re-evaluations and outbox backlog over all shards. */
  async backlog(): Promise<{ scheduled: number; outbox: number; nextDue: number | null }> {
    const pipe = this.redis.pipeline();
    for (let s = 0; s < this.shards; s++) {
      const k = this.keys.shard(s);
      pipe.zcard(k.due).xlen(k.outbox).zrange(k.due, 0, 0, 'WITHSCORES');
    }
    const r = ((await pipe.exec()) ?? []).map(([, v]) => v);
    let scheduled = 0,
      outbox = 0,
      nextDue: number | null = null;
    for (let i = 0; i < r.length; i += 3) {
      scheduled += Number(r[i]);
      outbox += Number(r[i + 1]);
      const first = r[i + 2] as string[];
      if (first.length === 2 && (nextDue === null || Number(first[1]) < nextDue)) nextDue = Number(first[1]);
    }
    return { scheduled, outbox, nextDue };
  }
}
