// The join of join.ts in Lua 5.1 for Redis scripts, generated from RULES so the rules are declared once.
//
// Numbers: Redis 7.0's cjson encodes numbers with '%.14g' and cjson.encode_number_precision accepts at most 14, so
// cjson.encode(123456789012345) gives "1.2345678901234e+14": integers of 15+ digits (large sums, or epoch ms after
// the year 5138) would silently lose precision. cjson.decode is exact (strtod). So documents are encoded with
// ps_encode below: cjson.encode when its output has no exponent-form number (every realistic profile; ~5x faster
// than a Lua-level encoder), else ps_encode_exact, which writes integers below 2^53 with '%.0f'.
// Strings: ps_cmpstr compares bytes, i.e. UTF-8 byte order = code point order, as cmpStr in doc.ts does (Lua's
// own `<` uses strcoll and would depend on the server's locale).
// Empty tables: cjson encodes {} as an object, and documents have no arrays, so nothing changes shape.
import { RULES } from './rules.ts';
import type { Rule } from './rules.ts';

function luaRule(rule: Rule): string {
  switch (rule.kind) {
    case 'set':
      return `{kind="set",limit=${rule.limit}}`;
    case 'map':
      return `{kind="map",of=${luaRule(rule.of)}}`;
    case 'record': {
      const fields = Object.entries(rule.fields).map(([f, r]) => `[${JSON.stringify(f)}]=${luaRule(r)}`);
      return `{kind="record",fields={${fields.join(',')}}}`;
    }
    default:
      return `{kind="${rule.kind}"}`;
  }
}

/** RULES as a Lua table literal. */
export const LUA_RULES = luaRule(RULES);

/**
 * Lua 5.1 chunk (no globals; only locals) defining:
 *   ps_join(a, b)  join of two cjson-decoded documents (either may be an empty table), exactly as join() in TS
 *   ps_encode(v)   JSON of a document with exact integers (cjson.encode unless that would lose digits)
 * Inputs are never mutated; the result may share sub-tables with them.
 */
export const LUA_JOIN = `
local PS_RULES = ${LUA_RULES}
local PS_TYPE_RANK = { boolean = 0, number = 1, string = 2, table = 3 }

-- No standard library at the top level: a Redis Function library's top level runs without it (7.0).
local function ps_cmpstr(a, b)
  if a == b then return 0 end
  local ps_byte = string.byte
  local la, lb = #a, #b
  local n = la < lb and la or lb
  for i = 1, n do
    local x, y = ps_byte(a, i), ps_byte(b, i)
    if x ~= y then return x < y and -1 or 1 end
  end
  return la < lb and -1 or 1
end

local function ps_lt(a, b) return ps_cmpstr(a, b) < 0 end

local function ps_sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, ps_lt)
  return ks
end

local ps_cmpval
ps_cmpval = function(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return PS_TYPE_RANK[ta] < PS_TYPE_RANK[tb] and -1 or 1 end
  if ta == 'string' then return ps_cmpstr(a, b) end
  if ta == 'number' then
    if a == b then return 0 end
    return a < b and -1 or 1
  end
  if ta == 'boolean' then
    if a == b then return 0 end
    return b and -1 or 1
  end
  local ka, kb = ps_sorted_keys(a), ps_sorted_keys(b)
  local n = #ka < #kb and #ka or #kb
  for i = 1, n do
    local c = ps_cmpstr(ka[i], kb[i])
    if c ~= 0 then return c end
    c = ps_cmpval(a[ka[i]], b[kb[i]])
    if c ~= 0 then return c end
  end
  if #ka == #kb then return 0 end
  return #ka < #kb and -1 or 1
end

local function ps_cmpcell(a, b)
  if a.t ~= b.t then return a.t < b.t and -1 or 1 end
  local c = ps_cmpstr(a.id, b.id)
  if c ~= 0 then return c end
  return ps_cmpval(a.v, b.v)
end

local function ps_join_set(limit, a, b)
  local out, n = {}, 0
  for k, r in pairs(a) do out[k] = r; n = n + 1 end
  for k, r in pairs(b) do
    local cur = out[k]
    if cur == nil then out[k] = r; n = n + 1 elseif r > cur then out[k] = r end
  end
  if n <= limit then return out end
  local items = {}
  for k, r in pairs(out) do items[#items + 1] = { k, r } end
  table.sort(items, function(x, y)
    if x[2] ~= y[2] then return x[2] > y[2] end
    return ps_cmpstr(x[1], y[1]) < 0
  end)
  local kept = {}
  for i = 1, limit do kept[items[i][1]] = items[i][2] end
  return kept
end

local ps_join_rule
ps_join_rule = function(rule, a, b)
  if a == nil then return b end
  if b == nil then return a end
  local k = rule.kind
  if k == 'min' then if b < a then return b end return a end
  if k == 'max' then if b > a then return b end return a end
  if k == 'sum' then return a + b end
  if k == 'lww' then if ps_cmpcell(b, a) > 0 then return b end return a end
  if k == 'fww' then if ps_cmpcell(b, a) < 0 then return b end return a end
  if k == 'set' then return ps_join_set(rule.limit, a, b) end
  local out = {}
  if k == 'map' then
    for key, av in pairs(a) do out[key] = av end
    for key, bv in pairs(b) do out[key] = ps_join_rule(rule.of, a[key], bv) end
    return out
  end
  for f, r in pairs(rule.fields) do out[f] = ps_join_rule(r, a[f], b[f]) end
  return out
end

local function ps_join(a, b)
  return ps_join_rule(PS_RULES, a, b) or {}
end

-- Exact encoder: integral numbers below 2^53 with '%.0f', keys sorted by byte order. Slow (Lua-level string
-- building); only used when cjson's output would have lost digits.
local ps_encode_exact
ps_encode_exact = function(v)
  local t = type(v)
  if t == 'table' then
    local ks = ps_sorted_keys(v)
    local parts = {}
    for i = 1, #ks do parts[i] = cjson.encode(ks[i]) .. ':' .. ps_encode_exact(v[ks[i]]) end
    return '{' .. table.concat(parts, ',') .. '}'
  end
  if t == 'number' and v == math.floor(v) and v > -9007199254740992 and v < 9007199254740992 then
    if v == 0 then return '0' end
    return string.format('%.0f', v)
  end
  return cjson.encode(v)
end

-- cjson prints a number with '%.14g': exact for every integer below 10^14 in magnitude, exponent notation
-- ('1.2345678901234e+14') from 10^14 on. So a digit followed by 'e+' in cjson's output is the only sign of lost
-- digits (a string value containing such text merely takes the slow exact path).
local function ps_encode(v)
  local s = cjson.encode(v)
  local at = string.find(s, 'e+', 2, true) -- a plain find: Lua patterns are ~100x slower here
  while at do
    if string.find(string.sub(s, at - 1, at - 1), '%d') then return ps_encode_exact(v) end
    at = string.find(s, 'e+', at + 2, true)
  end
  return s
end
`;

/**
 * Test helper script: KEYS[1] = a document key, ARGV[1] = fragment JSON. Joins the fragment into the stored
 * document (missing = empty), stores the result and returns its JSON.
 */
export const LUA_JOIN_SCRIPT = `${LUA_JOIN}
local stored = redis.call('GET', KEYS[1])
local doc = {}
if stored then doc = cjson.decode(stored) end
local out = ps_encode(ps_join(doc, cjson.decode(ARGV[1])))
redis.call('SET', KEYS[1], out)
return out
`;
