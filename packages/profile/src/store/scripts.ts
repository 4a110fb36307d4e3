/**
 * The store's Lua scripts, built around the profile join (LUA_JOIN, generated from the declared RULES).
 * Each runs atomically on the keys of one profile.
 */
import { LUA_JOIN } from '../lua.ts';

/**
 * FOLD: apply a batch of events of one profile, whose fragments the caller has already joined into one
 * (the join is associative and commutative, so this is the same as joining them one by one here).
 * KEYS: doc, seen, alias, meta. ARGV: window_ms, created_at, joined fragment JSON, then per event: event_id, occurred_at.
 * Nothing is written unless every event is new and in the window: otherwise the reply lists the duplicates and
 * the too-late ones, and the caller joins the rest again and retries (rare: replays and duplicates).
 * Replies: {'moved', alias} | {'exclude', duplicates_json, too_late_json} |
 *          {'ok', version, applied, doc_json, merged_ids_json}.
 * An event is a duplicate when its id is in the seen window; too late when older than the profile's
 * high-water mark (this batch included) minus the window: it can no longer be told from a duplicate.
 */
const FOLD_BODY = `
local alias = redis.call('GET', KEYS[3])
if alias then return {'moved', alias} end
local window = tonumber(ARGV[1])
local raw = redis.call('GET', KEYS[1])
local hw = 0
local doc0 = nil
if raw then
  doc0 = cjson.decode(raw)
  hw = tonumber(doc0.hw or 0)
end
for i = 4, #ARGV, 2 do
  local t = tonumber(ARGV[i + 1])
  if t > hw then hw = t end
end
local dups, late = {}, {}
for i = 4, #ARGV, 2 do
  if redis.call('ZSCORE', KEYS[2], ARGV[i]) then dups[#dups + 1] = ARGV[i]
  elseif tonumber(ARGV[i + 1]) < hw - window then late[#late + 1] = ARGV[i] end
end
if #dups > 0 or #late > 0 then
  local d, l = '[]', '[]'
  if #dups > 0 then d = cjson.encode(dups) end
  if #late > 0 then l = cjson.encode(late) end
  return {'exclude', d, l}
end
local applied = 0
for i = 4, #ARGV, 2 do
  redis.call('ZADD', KEYS[2], ARGV[i + 1], ARGV[i])
  applied = applied + 1
end
local version = tonumber(redis.call('HGET', KEYS[4], 'version') or 0)
if applied > 0 then
  local doc = doc0 or {}
  doc = ps_join(doc, cjson.decode(ARGV[3]))
  raw = ps_encode(doc)
  redis.call('SET', KEYS[1], raw)
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. string.format('%d', tonumber(doc.hw or 0) - window))
  version = redis.call('HINCRBY', KEYS[4], 'version', 1)
  redis.call('HSETNX', KEYS[4], 'created_at', ARGV[2])
end
return {'ok', version, applied, raw or '{}', redis.call('HGET', KEYS[4], 'merged') or '[]'}
`;

export const FOLD_SCRIPT = `${LUA_JOIN}${FOLD_BODY}`;

/**
 * MERGE_INTO: join a merged profile's final document and seen window into the survivor (idempotent).
 * KEYS: survivor doc, seen, alias, meta. ARGV: merged_id, merged doc JSON (or ''), merged ids JSON list,
 * then pairs of (event_id, occurred_at) from the merged profile's seen window.
 */
export const MERGE_SCRIPT = `${LUA_JOIN}
local alias = redis.call('GET', KEYS[3])
if alias then return {'moved', alias} end
local mergedRaw = redis.call('HGET', KEYS[4], 'merged')
local merged = mergedRaw and cjson.decode(mergedRaw) or {}
for _, m in ipairs(merged) do if m == ARGV[1] then return {'already', ''} end end
if ARGV[2] ~= '' then
  local raw = redis.call('GET', KEYS[1])
  local doc = raw and cjson.decode(raw) or {}
  redis.call('SET', KEYS[1], ps_encode(ps_join(doc, cjson.decode(ARGV[2]))))
end
for i = 4, #ARGV, 2 do redis.call('ZADD', KEYS[2], ARGV[i + 1], ARGV[i]) end
merged[#merged + 1] = ARGV[1]
for _, m in ipairs(cjson.decode(ARGV[3])) do merged[#merged + 1] = m end
table.sort(merged)
redis.call('HSET', KEYS[4], 'merged', cjson.encode(merged))
redis.call('HINCRBY', KEYS[4], 'version', 1)
return {'merged', ''}
`;

/**
 * RESERVE: add an identifier to a profile's identity set if the profile has room for one more of its type.
 * KEYS: the profile's ids:<type> set, its alias. ARGV: value, limit. Returns 'ok', 'full' or 'moved:<id>'.
 */
export const RESERVE_SCRIPT = `
local alias = redis.call('GET', KEYS[2])
if alias then return 'moved:' .. alias end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 'ok' end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 'full' end
redis.call('SADD', KEYS[1], ARGV[1])
return 'ok'
`;
