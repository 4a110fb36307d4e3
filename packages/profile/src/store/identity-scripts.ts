/**
 * The identity index's scripts. Each runs atomically on the identity slot (every key under the hash tag of
 * KeySpace.index, built inside the script from ARGV[1]; KEYS[1] is the journal, declared so the call is routed to
 * that slot). Profile documents live elsewhere: moving a merged profile's data is the merge executor's job (merge.ts),
 * driven by the journal this script writes.
 */

/**
 * RESOLVE: the identity of a chunk of identifier sets, in order, in one step.
 * ARGV: index prefix, limits (user_id, email, phone, anonymous_id), now, base of fresh profile ids, number of sets,
 *   then per set: trigger event id, occurred_at, k, then the k identifier keys (`<index prefix>id:<type>:<value>`) in
 *   priority order. (Keys come built: string work is what costs most in Redis's Lua, ~1-2 µs per string made.)
 * Per set: the target is the primary identifier's root; else the best-ranked owned identifier's root that has room
 * for the primary; else a new profile (id: the base and a counter; the base is time-ordered and random). The primary
 * is claimed for the target. Each other identifier: claimed when free and the target has room (else reported
 * dropped); when it belongs to another root, that root and the target are merged into the older id unless the union
 * breaks a limit (refused). A merge repoints every identifier of the merged root at once, moves its identifier set,
 * and journals the merge (with the merges still pending into it).
 * Reply (JSON): { events: [{ pid, c (created), m: [[survivor, merged, on]], r: [[other, on, reason]], d: [type] }],
 *   pending: { <root>: [journal entry] } } where pid is the set's root after the whole chunk, m/r/d appear only when
 *   not empty, and pending lists every merge into the chunk's roots whose data move is not confirmed done.
 * Cost: the chunk's identifier keys are read with MGETs of 500, the journal (in-flight merges only) with one HGETALL,
 * a root's counts with one HMGET; owners and counts are then kept in Lua tables and the claims written at the end
 * (MSET of 500, one HSET per root), or before a merge reads a root's identifiers. A known set costs no command.
 * Profiles being erased (the `erasing` hash, one HGETALL, empty but during an erase) count as owning nothing.
 */
export const RESOLVE_SCRIPT = `
local I = ARGV[1]
local TYPES = { 'user_id', 'email', 'phone', 'anonymous_id' }
local ID = #I + 4 -- where <type>:<value> starts in an identifier key
local LIMIT = { user_id = tonumber(ARGV[2]), email = tonumber(ARGV[3]), phone = tonumber(ARGV[4]), anonymous_id = tonumber(ARGV[5]) }
local now, base = ARGV[6], ARGV[7]
local JOURNAL = I .. 'merging'
local LOG = I .. 'mergelog'
local function owned(p) return I .. 'ids:' .. p end
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

-- The sets, and every identifier key of the chunk read at once: owner[key] = pid or false.
local sets, keys, owner = {}, {}, {}
local i = 9
for e = 1, tonumber(ARGV[8]) do
  local set = { trig = ARGV[i], at = ARGV[i + 1], ids = {} }
  local k = tonumber(ARGV[i + 2])
  i = i + 3
  for j = 1, k do
    local key = ARGV[i]
    set.ids[j] = key
    if owner[key] == nil then owner[key] = false; keys[#keys + 1] = key end
    i = i + 1
  end
  sets[e] = set
end
for a = 1, #keys, 500 do
  local vals = redis.call('MGET', unpack(keys, a, math.min(a + 499, #keys)))
  for b = 1, #vals do owner[keys[a + b - 1]] = vals[b] end
end
-- A profile being erased owns nothing any more (erase.ts): its identifiers are free to claim, it is never merged.
local erasing = redis.call('HGETALL', I .. 'erasing')
if #erasing > 0 then
  local gone = {}
  for a = 1, #erasing, 2 do gone[erasing[a]] = true end
  for key, o in pairs(owner) do
    if o and gone[o] then owner[key] = false end
  end
end

-- Identifier counts per root (HASH fields #<type>), read once per root; claims buffered until flush().
local count, fresh = {}, {}
local function counts(p)
  if count[p] == nil then
    if fresh[p] then
      count[p] = { user_id = 0, email = 0, phone = 0, anonymous_id = 0 }
    else
      local c = redis.call('HMGET', owned(p), '#user_id', '#email', '#phone', '#anonymous_id')
      count[p] = { user_id = tonumber(c[1] or 0), email = tonumber(c[2] or 0), phone = tonumber(c[3] or 0), anonymous_id = tonumber(c[4] or 0) }
    end
  end
  return count[p]
end
-- <type>:<value> of an identifier key, and its type.
local function field(key) return string.sub(key, ID) end
local function typeof(key) return string.match(key, '^([a-z_]+):', ID) end
local pairs_, fields = {}, {}
local function claim(key, p)
  owner[key] = p
  pairs_[#pairs_ + 1] = key
  pairs_[#pairs_ + 1] = p
  local c = counts(p)
  local t = typeof(key)
  c[t] = c[t] + 1
  fields[p] = fields[p] or {}
  local f = fields[p]
  f[#f + 1] = field(key)
  f[#f + 1] = '1'
end
local function flush()
  for a = 1, #pairs_, 1000 do redis.call('MSET', unpack(pairs_, a, math.min(a + 999, #pairs_))) end
  pairs_ = {}
  for p, f in pairs(fields) do
    local c = count[p]
    for _, t in ipairs(TYPES) do f[#f + 1] = '#' .. t; f[#f + 1] = c[t] end
    redis.call('HSET', owned(p), unpack(f))
  end
  fields = {}
end
local function room(p, t) return counts(p)[t] < LIMIT[t] end
local function conflict(a, b)
  local ca, cb = counts(a), counts(b)
  for _, t in ipairs(TYPES) do
    if ca[t] + cb[t] > LIMIT[t] then return 'limit_' .. t end
  end
  return nil
end

-- The journal: merged → entry, and root → merged ids whose move is not confirmed.
local journal, intos = {}, {}
local raw = redis.call('HGETALL', JOURNAL)
for a = 1, #raw, 2 do
  local j = cjson.decode(raw[a + 1])
  journal[raw[a]] = j
  intos[j.root] = intos[j.root] or {}
  intos[j.root][#intos[j.root] + 1] = raw[a]
end

local function merge(s, m, on, trig, at)
  flush()
  local f = redis.call('HGETALL', owned(m))
  local moved = {}
  for a = 1, #f, 2 do
    if string.sub(f[a], 1, 1) ~= '#' then
      local key = I .. 'id:' .. f[a]
      owner[key] = s
      moved[#moved + 1] = key
      moved[#moved + 1] = s
      fields[s] = fields[s] or {}
      fields[s][#fields[s] + 1] = f[a]
      fields[s][#fields[s] + 1] = '1'
    end
  end
  local cs, cm = counts(s), counts(m)
  for _, t in ipairs(TYPES) do cs[t] = cs[t] + cm[t]; cm[t] = 0 end
  for a = 1, #moved, 1000 do redis.call('MSET', unpack(moved, a, math.min(a + 999, #moved))) end
  redis.call('DEL', owned(m))
  flush()
  intos[s] = intos[s] or {}
  for _, x in ipairs(intos[m] or {}) do
    journal[x].root = s
    redis.call('HSET', JOURNAL, x, cjson.encode(journal[x]))
    redis.call('SADD', into(s), x)
    intos[s][#intos[s] + 1] = x
  end
  if intos[m] then redis.call('DEL', into(m)) end
  intos[m] = nil
  journal[m] = { merged = m, survivor = s, root = s, on = on, trigger = trig, at = at, decided = now }
  redis.call('HSET', JOURNAL, m, cjson.encode(journal[m]))
  redis.call('SADD', into(s), m)
  intos[s][#intos[s] + 1] = m
  redis.call('XADD', LOG, 'MAXLEN', '~', '1000000', '*', 'outcome', 'merged', 'survivor', s, 'merged', m, 'matched_on', on, 'trigger', trig)
end

local out, made = {}, 0
for e, set in ipairs(sets) do
  local r = {}
  local ids = set.ids
  local target = owner[ids[1]]
  if not target then
    local pt = typeof(ids[1])
    for j = 2, #ids do
      local c = owner[ids[j]]
      if c and room(c, pt) then target = c; break end
    end
    if not target then
      made = made + 1
      target = base .. string.format('%05x', made)
      fresh[target] = true
      r.c = true
    end
    claim(ids[1], target)
  end
  for j = 2, #ids do
    local key = ids[j]
    local o = owner[key]
    if not o then
      local t = typeof(key)
      if room(target, t) then claim(key, target) else r.d = r.d or {}; r.d[#r.d + 1] = t end
    elseif o ~= target then
      local t = typeof(key)
      local why = conflict(target, o)
      if why then
        r.r = r.r or {}
        r.r[#r.r + 1] = { o, t, why }
        redis.call('XADD', LOG, 'MAXLEN', '~', '1000000', '*', 'outcome', 'refused', 'target', target, 'other', o, 'matched_on', t, 'reason', why, 'trigger', set.trig)
      else
        local s, m = target, o
        if older(o, target) then s, m = o, target end
        merge(s, m, t, set.trig, set.at)
        r.m = r.m or {}
        r.m[#r.m + 1] = { s, m, t }
        target = s
      end
    end
  end
  r.pid = target
  out[e] = r
end
flush()

local pending = {}
for _, r in ipairs(out) do
  if journal[r.pid] then r.pid = journal[r.pid].root end
  local list = intos[r.pid]
  if list and #list > 0 and not pending[r.pid] then
    local entries = {}
    for _, x in ipairs(list) do entries[#entries + 1] = journal[x] end
    pending[r.pid] = entries
  end
end
return cjson.encode({ events = out, pending = pending })
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
