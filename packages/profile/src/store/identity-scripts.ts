/**
 * The identity index's scripts. Each runs atomically on the identity slot (every key under the hash tag of
 * KeySpace.index, built inside the script from ARGV[1]; KEYS[1] is the journal, declared so the call is routed to
 * that slot). Profile documents live elsewhere: moving a merged profile's data is the merge executor's job (merge.ts),
 * driven by the journal this script writes.
 */

/**
 * RESOLVE: the identity of a chunk of events, in order, in one step.
 * ARGV: index prefix, limits (user_id, email, phone, anonymous_id), now, number of events, then per event:
 *   a fresh profile id (used when the event creates a customer), trigger event id, occurred_at, k, then k pairs of
 *   (type, value) in priority order (user_id > email > phone > anonymous_id).
 * Per event: the target is the primary identifier's root; else the best-ranked owned identifier's root that has room
 * for the primary; else a new profile. The primary is claimed for the target. Each other identifier: claimed when
 * free and the target has room (else reported dropped); when it belongs to another root, that root and the target are
 * merged into the older id unless the union breaks a limit (refused). A merge repoints every identifier of the merged
 * root at once, moves its identifier sets, and journals the merge (with the merges still pending into it).
 * Reply (JSON): { events: [{ pid, created, merges: [[survivor, merged, on]], refused: [[other, on, reason]],
 *   dropped: [type] }], pending: { <final root>: [journal entry] } } where pid is the event's root after the whole
 *   chunk, and pending lists every merge into the chunk's roots whose data move is not confirmed done.
 */
export const RESOLVE_SCRIPT = `
local I = ARGV[1]
local LIMIT = { user_id = tonumber(ARGV[2]), email = tonumber(ARGV[3]), phone = tonumber(ARGV[4]), anonymous_id = tonumber(ARGV[5]) }
local TYPES = { 'user_id', 'email', 'phone', 'anonymous_id' }
local now = ARGV[6]
local JOURNAL = I .. 'merging'
local LOG = I .. 'mergelog'
local function idk(t, v) return I .. 'id:' .. t .. ':' .. v end
local function owned(p, t) return I .. 'ids:' .. p .. ':' .. t end
local function into(p) return I .. 'into:' .. p end

-- byte-wise order (Lua's < follows the server's locale); profile ids are time-ordered in byte order
local function older(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

local function claim(t, v, p)
  redis.call('SET', idk(t, v), p)
  redis.call('SADD', owned(p, t), v)
end

local function room(p, t) return redis.call('SCARD', owned(p, t)) < LIMIT[t] end

local function conflict(a, b)
  for _, t in ipairs(TYPES) do
    if redis.call('SCARD', owned(a, t)) + redis.call('SCARD', owned(b, t)) > LIMIT[t] then return 'limit_' .. t end
  end
  return nil
end

local function merge(s, m, on, trig, at)
  for _, t in ipairs(TYPES) do
    local vs = redis.call('SMEMBERS', owned(m, t))
    if #vs > 0 then
      for _, v in ipairs(vs) do redis.call('SET', idk(t, v), s) end
      redis.call('SUNIONSTORE', owned(s, t), owned(s, t), owned(m, t))
      redis.call('DEL', owned(m, t))
    end
  end
  for _, x in ipairs(redis.call('SMEMBERS', into(m))) do
    local j = cjson.decode(redis.call('HGET', JOURNAL, x))
    j.root = s
    redis.call('HSET', JOURNAL, x, cjson.encode(j))
    redis.call('SADD', into(s), x)
  end
  redis.call('DEL', into(m))
  redis.call('HSET', JOURNAL, m, cjson.encode({ merged = m, survivor = s, root = s, on = on, trigger = trig, at = at, decided = now }))
  redis.call('SADD', into(s), m)
  redis.call('XADD', LOG, 'MAXLEN', '~', '1000000', '*', 'outcome', 'merged', 'survivor', s, 'merged', m, 'matched_on', on, 'trigger', trig)
end

local out = {}
local i = 8
for e = 1, tonumber(ARGV[7]) do
  local fresh, trig, at, k = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  i = i + 4
  local ids = {}
  for j = 1, k do ids[j] = { ARGV[i], ARGV[i + 1] }; i = i + 2 end
  local r = { created = false, merges = {}, refused = {}, dropped = {} }
  local pt, pv = ids[1][1], ids[1][2]
  local target = redis.call('GET', idk(pt, pv))
  if not target then
    for j = 2, k do
      local c = redis.call('GET', idk(ids[j][1], ids[j][2]))
      if c and room(c, pt) then target = c; break end
    end
    if not target then target = fresh; r.created = true end
    claim(pt, pv, target)
  end
  for j = 2, k do
    local t, v = ids[j][1], ids[j][2]
    local o = redis.call('GET', idk(t, v))
    if not o then
      if room(target, t) then claim(t, v, target) else r.dropped[#r.dropped + 1] = t end
    elseif o ~= target then
      local why = conflict(target, o)
      if why then
        r.refused[#r.refused + 1] = { o, t, why }
        redis.call('XADD', LOG, 'MAXLEN', '~', '1000000', '*', 'outcome', 'refused', 'target', target, 'other', o, 'matched_on', t, 'reason', why, 'trigger', trig)
      else
        local s, m = target, o
        if older(o, target) then s, m = o, target end
        merge(s, m, t, trig, at)
        r.merges[#r.merges + 1] = { s, m, t }
        target = s
      end
    end
  end
  r.pid = target
  out[e] = r
end

local pending = {}
local has = false
for _, r in ipairs(out) do
  local j = redis.call('HGET', JOURNAL, r.pid)
  if j then r.pid = cjson.decode(j).root end
  if pending[r.pid] == nil then
    local list = {}
    for _, x in ipairs(redis.call('SMEMBERS', into(r.pid))) do list[#list + 1] = cjson.decode(redis.call('HGET', JOURNAL, x)) end
    pending[r.pid] = list
    if #list > 0 then has = true end
  end
end
local lists = {}
if has then for p, list in pairs(pending) do if #list > 0 then lists[p] = list end end end
return cjson.encode({ events = out, pending = lists })
`;

/**
 * PENDING: the journal entries of merges into the given roots (for a reader that wants complete data), or of every
 * merge in the journal when no root is given (the sweep). ARGV: index prefix, then roots. Reply: JSON list.
 */
export const PENDING_SCRIPT = `
local I = ARGV[1]
local JOURNAL = I .. 'merging'
local list = {}
if #ARGV == 1 then
  for _, v in ipairs(redis.call('HVALS', JOURNAL)) do list[#list + 1] = v end
else
  for a = 2, #ARGV do
    for _, x in ipairs(redis.call('SMEMBERS', I .. 'into:' .. ARGV[a])) do list[#list + 1] = redis.call('HGET', JOURNAL, x) end
  end
end
if #list == 0 then return '[]' end
return '[' .. table.concat(list, ',') .. ']'
`;

/** DONE: merges whose data move is complete (and announced) leave the journal. ARGV: index prefix, merged pids. */
export const DONE_SCRIPT = `
local I = ARGV[1]
local JOURNAL = I .. 'merging'
local n = 0
for a = 2, #ARGV do
  local j = redis.call('HGET', JOURNAL, ARGV[a])
  if j then
    redis.call('SREM', I .. 'into:' .. cjson.decode(j).root, ARGV[a])
    redis.call('HDEL', JOURNAL, ARGV[a])
    n = n + 1
  end
end
return n
`;
