/**
 * Segment membership in Redis: per profile the stored membership of every segment, the outbox of membership
 * events not yet relayed to Kafka, and the schedule of clock-driven re-evaluations. A change of membership and
 * its outbox record are written by one script (atomic), so an event is never lost between Redis and Kafka and
 * never invented twice: the relay publishes the outbox at least once, a duplicate carrying the same event id.
 *
 * Keys are sharded by profile id; every key of a shard carries the hash tag `{seg:<shard>}`, so each script
 * touches one slot (Redis Cluster safe) and the relay and scheduler work shard by shard:
 *   <prefix>seg:{seg:<s>}:m:<pid>     HASH  pv (profile version evaluated), dead (merged:<survivor> | erased),
 *                                           s:<segment> "member,membership_version,definition_version,occurred_at",
 *                                           d:<segment> next instant the segment's answer flips by the clock
 *   <prefix>seg:{seg:<s>}:outbox      STREAM membership events waiting for the relay
 *   <prefix>seg:{seg:<s>}:relayed     the last outbox id published to Kafka
 *   <prefix>seg:{seg:<s>}:due         ZSET pid → earliest d:* (the scheduler's work list)
 *   <prefix>seg:{seg:<s>}:in:<seg>    SET  members of a segment (sizes, listings)
 *   <prefix>seg:defs                  HASH segment id → JSON of the definition version in use
 */
import type { Redis } from 'ioredis';

export type MembershipReason =
  | 'rule_matched' | 'rule_unmatched' | 'time_elapsed' | 'profile_merged' | 'profile_erased' | 'consent_withdrawn' | 'definition_changed';

/** The wanted membership of one segment after an evaluation. */
export interface Decision {
  segment: string;
  definitionVersion: number;
  member: boolean;
  /** The reason if this is a change (the script knows whether it is). */
  reason: MembershipReason;
  /** When the change happened (clamped by the script to not before the segment's previous change). */
  occurredAt: number;
  /** The next instant the answer flips by the clock, or null. */
  nextChangeAt: number | null;
  traits: Record<string, string>;
}

export interface StoredMembership {
  member: boolean;
  version: number;
  definitionVersion: number;
  occurredAt: number;
}

export interface MembershipState {
  profileVersion: number;
  dead: string | null;
  segments: Map<string, StoredMembership>;
  due: Map<string, number>;
}

export type ApplyResult = { kind: 'ok'; emitted: number } | { kind: 'stale'; profileVersion: number } | { kind: 'dead'; dead: string };

/** An outbox entry: a membership event without emitted_at (the relay stamps it). */
export interface OutboxEvent {
  profile_id: string;
  segment_id: string;
  segment_version: number;
  change: 'entered' | 'exited';
  reason: MembershipReason;
  membership_version: number;
  occurred_at: number;
  trigger_event_id: string | null;
  traits: Record<string, string>;
}

/** The event id is derived from profile, segment and membership version: stable across replays and relays. */
export const membershipEventId = (e: Pick<OutboxEvent, 'profile_id' | 'segment_id' | 'membership_version'>) =>
  `${e.profile_id}:${e.segment_id}:m${e.membership_version}`;

// Shared Lua: the outbox record of one change, and the state string of a segment.
const LUA_COMMON = `
local function parse(raw)
  if not raw then return 0, 0, 0, 0 end
  local m, n, dv, at = string.match(raw, '^(%d+),(%d+),(%d+),(%-?%d+)$')
  return tonumber(m), tonumber(n), tonumber(dv), tonumber(at)
end
local function emit(outbox, pid, seg, dv, member, reason, n, at, trigger, traits)
  local change = 'exited'
  if member == 1 then change = 'entered' end
  redis.call('XADD', outbox, '*', 'p', pid, 's', seg, 'v', dv, 'c', change, 'r', reason, 'n', n, 'at', at, 't', trigger, 'tr', traits)
end
local function reschedule(state, due, pid)
  local all = redis.call('HGETALL', state)
  local min = nil
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 2) == 'd:' then
      local t = tonumber(all[i + 1])
      if min == nil or t < min then min = t end
    end
  end
  if min then redis.call('ZADD', due, min, pid) else redis.call('ZREM', due, pid) end
end
`;

/**
 * APPLY: KEYS state, outbox, due, then one member set per decision.
 * ARGV pid, profile_version, trigger ('' = none), then per decision: segment, definition_version, member (0|1),
 * reason, occurred_at, next ('' = none), traits JSON.
 * Refuses a dead profile and an evaluation of an older profile version than the last one applied.
 */
export const APPLY_SCRIPT = `${LUA_COMMON}
local state, outbox, due = KEYS[1], KEYS[2], KEYS[3]
-- One read of the whole state; only what changed is written back.
local flat = redis.call('HGETALL', state)
local h = {}
for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
if h['dead'] then return {'dead', h['dead']} end
local pid, pv, trigger = ARGV[1], tonumber(ARGV[2]), ARGV[3]
if pv < tonumber(h['pv'] or '-1') then return {'stale', h['pv']} end
local set, del = {'pv', ARGV[2]}, {}
local emitted = 0
local i = 0
for b = 4, #ARGV, 7 do
  i = i + 1
  local seg, dv, m, reason, at, nxt, traits = ARGV[b], tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), ARGV[b + 3], tonumber(ARGV[b + 4]), ARGV[b + 5], ARGV[b + 6]
  local sf, df = 's:' .. seg, 'd:' .. seg
  local om, n, odv, oat = parse(h[sf])
  if m ~= om then
    n = n + 1
    if at < oat then at = oat end
    if odv ~= 0 and odv ~= dv then reason = 'definition_changed' end
    emit(outbox, pid, seg, dv, m, reason, n, at, trigger, traits)
    if m == 1 then redis.call('SADD', KEYS[3 + i], pid) else redis.call('SREM', KEYS[3 + i], pid) end
    emitted = emitted + 1
    oat = at
  end
  local sv = m .. ',' .. n .. ',' .. dv .. ',' .. string.format('%d', oat)
  if h[sf] ~= sv then set[#set + 1] = sf; set[#set + 1] = sv; h[sf] = sv end
  if nxt == '' then
    if h[df] then del[#del + 1] = df; h[df] = nil end
  elseif h[df] ~= nxt then
    set[#set + 1] = df; set[#set + 1] = nxt; h[df] = nxt
  end
end
redis.call('HSET', state, unpack(set))
if #del > 0 then redis.call('HDEL', state, unpack(del)) end
local min = nil
for f, v in pairs(h) do
  if string.sub(f, 1, 2) == 'd:' then
    local t = tonumber(v)
    if min == nil or t < min then min = t end
  end
end
if min then redis.call('ZADD', due, min, pid) else redis.call('ZREM', due, pid) end
return {'ok', emitted}
`;

/**
 * RETIRE: the profile was merged into another or erased: it exits every segment it is in (one event each),
 * is marked dead (later evaluations of it are refused) and leaves the schedule. Idempotent.
 * KEYS state, outbox, due. ARGV pid, dead mark, reason, occurred_at, trigger, member-set key prefix.
 * (The member-set keys are built here from the prefix: they share the state's hash tag, so the same slot.)
 */
export const RETIRE_SCRIPT = `${LUA_COMMON}
local state, outbox, due = KEYS[1], KEYS[2], KEYS[3]
if redis.call('HGET', state, 'dead') then return 0 end
local pid, mark, reason, at, trigger, setPrefix = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6]
local all = redis.call('HGETALL', state)
local exited = 0
for i = 1, #all, 2 do
  local f = all[i]
  if string.sub(f, 1, 2) == 's:' then
    local seg = string.sub(f, 3)
    local m, n, dv, oat = parse(all[i + 1])
    if m == 1 then
      n = n + 1
      local t = at
      if t < oat then t = oat end
      emit(outbox, pid, seg, dv, 0, reason, n, t, trigger, '{}')
      redis.call('SREM', setPrefix .. seg, pid)
      redis.call('HSET', state, f, '0,' .. n .. ',' .. dv .. ',' .. string.format('%d', t))
      exited = exited + 1
    end
  elseif string.sub(f, 1, 2) == 'd:' then
    redis.call('HDEL', state, f)
  end
end
redis.call('HSET', state, 'dead', mark)
redis.call('ZREM', due, pid)
return exited
`;

/** RELAYED: KEYS outbox, cursor. ARGV last id, then the ids published. Moves the cursor and drops them. */
export const RELAYED_SCRIPT = `
redis.call('SET', KEYS[2], ARGV[1])
for i = 2, #ARGV do redis.call('XDEL', KEYS[1], ARGV[i]) end
return #ARGV - 1
`;

/** UNSCHEDULE: KEYS due. ARGV pairs pid, score: removes a pid only if it is still due at that score. */
export const UNSCHEDULE_SCRIPT = `
local n = 0
for i = 1, #ARGV, 2 do
  local s = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if s and tonumber(s) == tonumber(ARGV[i + 1]) then redis.call('ZREM', KEYS[1], ARGV[i]); n = n + 1 end
end
return n
`;

/** FNV-1a over the profile id: the shard of its segment state. */
export function shardOf(pid: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < pid.length; i++) {
    h ^= pid.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

export interface SegmentKeys {
  shard(s: number): { outbox: string; relayed: string; due: string; member: (pid: string) => string; members: (segment: string) => string; membersPrefix: string };
  defs: string;
}

export function segmentKeys(prefix: string): SegmentKeys {
  return {
    shard: (s) => {
      const base = `${prefix}seg:{seg:${s}}`;
      return {
        outbox: `${base}:outbox`, relayed: `${base}:relayed`, due: `${base}:due`,
        member: (pid: string) => `${base}:m:${pid}`, members: (segment: string) => `${base}:in:${segment}`, membersPrefix: `${base}:in:`,
      };
    },
    defs: `${prefix}seg:defs`,
  };
}

type ScriptRedis = Redis & {
  psSegApply(...args: (string | number)[]): Promise<[string, string | number]>;
  psSegRetire(...args: (string | number)[]): Promise<number>;
  psSegRelayed(...args: (string | number)[]): Promise<number>;
  psSegUnschedule(...args: (string | number)[]): Promise<number>;
};

export interface OutboxEntry { id: string; event: OutboxEvent }

export class MembershipStore {
  readonly keys: SegmentKeys;
  readonly shards: number;
  readonly redis: Redis;
  private readonly r: ScriptRedis;

  constructor(redis: Redis, o: { prefix: string; shards: number }) {
    this.redis = redis;
    this.keys = segmentKeys(o.prefix);
    this.shards = o.shards;
    this.r = redis as ScriptRedis;
    for (const [name, lua] of [['psSegApply', APPLY_SCRIPT], ['psSegRetire', RETIRE_SCRIPT], ['psSegRelayed', RELAYED_SCRIPT], ['psSegUnschedule', UNSCHEDULE_SCRIPT]] as const) {
      if (!(name in redis)) redis.defineCommand(name, { lua });
    }
  }

  private shardKeys(pid: string) {
    const k = this.keys.shard(shardOf(pid, this.shards));
    return { ...k, state: k.member(pid) };
  }

  /** Writes the decisions of one evaluation (changes + outbox records + schedule) in one atomic step. */
  async apply(pid: string, profileVersion: number, trigger: string | null, decisions: readonly Decision[]): Promise<ApplyResult> {
    const k = this.shardKeys(pid);
    const keys = [k.state, k.outbox, k.due, ...decisions.map((d) => k.members(d.segment))];
    const args: (string | number)[] = [pid, profileVersion, trigger ?? ''];
    for (const d of decisions) {
      args.push(d.segment, d.definitionVersion, d.member ? 1 : 0, d.reason, Math.round(d.occurredAt), d.nextChangeAt === null ? '' : Math.round(d.nextChangeAt), JSON.stringify(d.traits));
    }
    const [kind, x] = await this.r.psSegApply(keys.length, ...keys, ...args);
    if (kind === 'ok') return { kind, emitted: Number(x) };
    if (kind === 'stale') return { kind, profileVersion: Number(x) };
    return { kind: 'dead', dead: String(x) };
  }

  /** The profile leaves every segment (merged into `survivor`, or erased) and is marked dead. Returns exits. */
  async retire(pid: string, how: { merged_into: string } | { erased: true }, occurredAt: number, trigger: string | null): Promise<number> {
    const k = this.shardKeys(pid);
    const [mark, reason] = 'merged_into' in how ? [`merged:${how.merged_into}`, 'profile_merged'] : ['erased', 'profile_erased'];
    return this.r.psSegRetire(3, k.state, k.outbox, k.due, pid, mark, reason, Math.round(occurredAt), trigger ?? '', k.membersPrefix);
  }

  async read(pid: string): Promise<MembershipState> {
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

  /** An outbox entry's fields (as XRANGE/XREAD return them) → the membership event. */
  static parseOutbox(fields: string[]): OutboxEvent {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    return {
      profile_id: f.p!, segment_id: f.s!, segment_version: Number(f.v), change: f.c as 'entered' | 'exited', reason: f.r as MembershipReason,
      membership_version: Number(f.n), occurred_at: Number(f.at), trigger_event_id: f.t ? f.t : null, traits: JSON.parse(f.tr ?? '{}') as Record<string, string>,
    };
  }

  async relayed(shard: number, lastId: string, ids: string[]): Promise<void> {
    const k = this.keys.shard(shard);
    await this.r.psSegRelayed(2, k.outbox, k.relayed, lastId, ...ids);
  }

  async cursor(shard: number): Promise<string> {
    return (await this.redis.get(this.keys.shard(shard).relayed)) ?? '0-0';
  }

  /** Profiles due at or before `now` in one shard: [pid, due][]. */
  async dueBefore(shard: number, now: number, limit: number): Promise<[string, number][]> {
    const r = await this.redis.zrangebyscore(this.keys.shard(shard).due, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit);
    const out: [string, number][] = [];
    for (let i = 0; i + 1 < r.length; i += 2) out.push([r[i]!, Number(r[i + 1])]);
    return out;
  }

  /** Removes due entries that were handed on, unless they were rescheduled meanwhile. */
  async unschedule(shard: number, items: [string, number][]): Promise<void> {
    if (items.length === 0) return;
    await this.r.psSegUnschedule(1, this.keys.shard(shard).due, ...items.flat());
  }

  /** Members of a segment over all shards (count), and up to `sample` member ids. */
  async size(segment: string, sample = 0): Promise<{ members: number; sample: string[] }> {
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
    let scheduled = 0, outbox = 0, nextDue: number | null = null;
    for (let i = 0; i < r.length; i += 3) {
      scheduled += Number(r[i]);
      outbox += Number(r[i + 1]);
      const first = r[i + 2] as string[];
      if (first.length === 2 && (nextDue === null || Number(first[1]) < nextDue)) nextDue = Number(first[1]);
    }
    return { scheduled, outbox, nextDue };
  }
}
