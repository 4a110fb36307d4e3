/**
 * The membership store's scripts. Each runs atomically on the keys of ONE shard (keys.ts: every key of a shard shares
 * its hash tag), so a change of membership and its outbox record are written together: an event is never lost
 * between Redis and Kafka and never invented twice (the relay publishes the outbox at least once, a duplicate
 * carrying the same event id).
 *   APPLY       the decisions of evaluations of a shard's members, in order: changed memberships, their outbox records,
 *               member sets, schedule
 *   RETIRE      a merged or erased profile exits every segment and is marked dead
 *   RELAYED     published outbox entries leave the outbox, the shard's cursor moves past them, if the relay still
 *               holds the shard's lease (fenced: a relay whose lease lapsed moves nothing)
 *   UNSCHEDULE  due entries handed on leave the schedule unless they were rescheduled meanwhile
 * An outbox record's fields (written by emit() below, read back by parseOutbox): p profile, s segment, v definition
 * version, c change, r reason, n membership version, at occurred_at, t trigger event id ('' = none), tr traits JSON.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import { scriptCommand, type ScriptCall } from '@profile-stream/profile';
import type { MembershipReason, OutboxEvent } from './records.ts';

// Shared Lua: the state string of a segment, and the outbox record of one change.
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
`;

/**
 * APPLY: the evaluations of one or more members of ONE shard, in order (a member may come twice: its later evaluation
 * after its earlier one). KEYS outbox, due, then the state hash of each member in order.
 * ARGV member-set key prefix, then per member: pid, profile_version, trigger ('' = none), expected write count ('' =
 * none), number of decisions, then per decision: segment, definition_version, member (0|1), reason, occurred_at, next
 * ('' = none), traits JSON.
 * Per member it refuses a dead profile and an evaluation of an older profile version than the last one applied.
 * The write count `w` counts the writes of the member's state (APPLY and RETIRE). A caller that remembers what it
 * wrote (store.ts) leaves out the decisions that would change nothing and names the count it wrote; the script
 * applies such a partial evaluation only if the state is still at that count ('0': no state at all), and otherwise
 * answers 'recheck' without writing anything (the caller sends the whole evaluation).
 * A segment the member was never in stores nothing (it reads as not a member, version 0): most decisions of a new
 * profile are "not a member", and writing a state string for each was half of the script's time (issue 12). So the
 * first entry after a definition change of a never-member carries its own reason, not definition_changed.
 * Replies per member, in order, three values: 'ok', emitted, write count | 'stale', stored profile version, '' |
 * 'dead', dead mark, '' | 'recheck', stored write count, ''.
 * (The member-set keys are built from the prefix, as RETIRE does: they share the shard's hash tag, so the same slot.)
 */
export const APPLY_SCRIPT = `${LUA_COMMON}
local outbox, due, setPrefix = KEYS[1], KEYS[2], ARGV[1]
-- One member's evaluation: one read of its whole state; only what changed is written back.
local function apply(state, pid, pvArg, trigger, expect, first, count)
  local flat = redis.call('HGETALL', state)
  local h = {}
  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
  if h['dead'] then return 'dead', h['dead'] end
  if tonumber(pvArg) < tonumber(h['pv'] or '-1') then return 'stale', h['pv'] end
  if expect == '0' then
    if #flat > 0 then return 'recheck', h['w'] or '' end
  elseif expect ~= '' and h['w'] ~= expect then
    return 'recheck', h['w'] or ''
  end
  local w = tonumber(h['w'] or '0') + 1
  local set, del = {'pv', pvArg, 'w', w}, {}
  local emitted = 0
  for b = first, first + (count - 1) * 7, 7 do
    local seg, m, nxt = ARGV[b], ARGV[b + 2], ARGV[b + 5]
    local sf, df = 's:' .. seg, 'd:' .. seg
    local raw = h[sf]
    -- The common cases first: never a member and still not (nothing stored), or the stored membership is the wanted
    -- one under the same definition version (its state string stays as it is). Measured: per member ~30 decisions,
    -- nearly all of them these; parsing and writing a state string for each was most of the script's time: 210 -> 108
    -- us a new member, 218 -> 57 us an unchanged one (issue 12).
    if raw == nil and m == '0' then
      -- nothing to write
    elseif not (raw and string.byte(raw, 1) == string.byte(m, 1) and string.match(raw, '^%d+,%d+,(%d+),') == ARGV[b + 1]) then
      local dv, mn, reason, at, traits = tonumber(ARGV[b + 1]), tonumber(m), ARGV[b + 3], tonumber(ARGV[b + 4]), ARGV[b + 6]
      local om, n, odv, oat = parse(raw)
      if mn ~= om then
        n = n + 1
        if at < oat then at = oat end
        if odv ~= 0 and odv ~= dv then reason = 'definition_changed' end
        emit(outbox, pid, seg, dv, mn, reason, n, at, trigger, traits)
        if mn == 1 then redis.call('SADD', setPrefix .. seg, pid) else redis.call('SREM', setPrefix .. seg, pid) end
        emitted = emitted + 1
        oat = at
      end
      local sv = mn .. ',' .. n .. ',' .. dv .. ',' .. string.format('%d', oat)
      if raw ~= sv then set[#set + 1] = sf; set[#set + 1] = sv; h[sf] = sv end
    end
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
  return 'ok', emitted, w
end
local out = {}
local a = 2
for k = 3, #KEYS do
  local count = tonumber(ARGV[a + 4])
  local kind, x, w = apply(KEYS[k], ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], a + 5, count)
  out[#out + 1] = kind
  out[#out + 1] = x
  out[#out + 1] = w or ''
  a = a + 5 + count * 7
end
return out
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
redis.call('HINCRBY', state, 'w', 1)
redis.call('ZREM', due, pid)
return exited
`;

/**
 * RELAYED: KEYS outbox, cursor, relay lease. ARGV owner, last id, then the ids published. Moves the cursor and drops
 * them, only while `owner` holds the lease; returns how many were dropped, or -1 (lease not held: nothing moved).
 * Owner '' skips the check (tools that mark entries relayed while no relay runs).
 */
export const RELAYED_SCRIPT = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[2], ARGV[2])
for i = 3, #ARGV, 1000 do redis.call('XDEL', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV))) end
return #ARGV - 2
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

/** An outbox entry's fields (as XRANGE/XREAD return them) → the membership event. */
export function parseOutbox(fields: readonly string[]): OutboxEvent {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  return {
    profile_id: f.p!,
    segment_id: f.s!,
    segment_version: Number(f.v),
    change: f.c as 'entered' | 'exited',
    reason: f.r as MembershipReason,
    membership_version: Number(f.n),
    occurred_at: Number(f.at),
    trigger_event_id: f.t ? f.t : null,
    traits: JSON.parse(f.tr ?? '{}') as Record<string, string>,
  };
}

/** The membership scripts on one Redis client. */
export interface MembershipScripts {
  /** Replies per member, flat, three values each (APPLY_SCRIPT). */
  apply: ScriptCall<(string | number)[]>;
  retire: ScriptCall<number>;
  relayed: ScriptCall<number>;
  unschedule: ScriptCall<number>;
}

/** The RELAYED script queued on a pipeline (the relay acknowledges all its shards in one round trip). */
export function queueRelayed(pipe: ChainableCommander, keys: [outbox: string, cursor: string, lease: string], args: (string | number)[]): void {
  (pipe as unknown as Record<string, (...a: (string | number)[]) => unknown>).psSegRelayed!(...keys, ...args);
}

/** The UNSCHEDULE script queued on a pipeline (the scheduler hands on the ticks of all its shards in one round trip). */
export function queueUnschedule(pipe: ChainableCommander, due: string, args: (string | number)[]): void {
  (pipe as unknown as Record<string, (...a: (string | number)[]) => unknown>).psSegUnschedule!(due, ...args);
}

export function membershipScripts(redis: Redis): MembershipScripts {
  return {
    apply: scriptCommand(redis, 'psSegApply', APPLY_SCRIPT, 'variable'),
    retire: scriptCommand(redis, 'psSegRetire', RETIRE_SCRIPT, 3),
    relayed: scriptCommand(redis, 'psSegRelayed', RELAYED_SCRIPT, 3),
    unschedule: scriptCommand(redis, 'psSegUnschedule', UNSCHEDULE_SCRIPT, 1),
  };
}
