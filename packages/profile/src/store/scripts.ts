/**
 * The store's Lua scripts, built around the profile join (LUA_JOIN, generated from the declared RULES).
 * Each runs atomically on the keys of one profile.
 */
import { LUA_JOIN } from '../lua.ts';

/**
 * FOLD: apply a batch of events of one profile.
 * KEYS: doc, seen, alias, meta. ARGV: window_ms, created_at, then per event: event_id, occurred_at, fragment JSON.
 * Returns {status, version, applied, duplicates, too_late_ids_json, alias, doc_json, merged_ids_json}:
 *   status 'moved' when the profile was merged away (nothing written; the caller follows the alias).
 * An event is a duplicate when its id is in the seen window; too late when older than the profile's
 * high-water mark minus the window (it cannot be told from a duplicate any more).
 */
export const FOLD_SCRIPT = `${LUA_JOIN}
local alias = redis.call('GET', KEYS[3])
if alias then return {'moved', 0, 0, 0, '[]', alias, ''} end
local window = tonumber(ARGV[1])
local raw = redis.call('GET', KEYS[1])
local doc = raw and cjson.decode(raw) or {}
-- The high-water mark includes this batch's events, so the verdict does not depend on how events were batched.
local hw = tonumber(doc.hw or 0)
for i = 4, #ARGV, 3 do
  local t = tonumber(ARGV[i])
  if t > hw then hw = t end
end
local applied, dups, late = 0, 0, {}
local acc = nil
for i = 3, #ARGV, 3 do
  local id, t = ARGV[i], tonumber(ARGV[i + 1])
  if redis.call('ZSCORE', KEYS[2], id) then
    dups = dups + 1
  elseif t < hw - window then
    late[#late + 1] = id
  else
    redis.call('ZADD', KEYS[2], t, id)
    local frag = cjson.decode(ARGV[i + 2])
    if acc then acc = ps_join(acc, frag) else acc = frag end
    applied = applied + 1
  end
end
local version = tonumber(redis.call('HGET', KEYS[4], 'version') or 0)
if applied > 0 then
  doc = ps_join(doc, acc)
  raw = ps_encode(doc)
  redis.call('SET', KEYS[1], raw)
  local newhw = tonumber(doc.hw or 0)
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. string.format('%d', newhw - window))
  version = redis.call('HINCRBY', KEYS[4], 'version', 1)
  redis.call('HSETNX', KEYS[4], 'created_at', ARGV[2])
end
local lateJson = '[]'
if #late > 0 then lateJson = cjson.encode(late) end
return {'ok', version, applied, dups, lateJson, '', raw or '{}', redis.call('HGET', KEYS[4], 'merged') or '[]'}
`;

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
