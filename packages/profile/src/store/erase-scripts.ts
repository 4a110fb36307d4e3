/**
 * The erase's identity-index scripts (erase.ts). Like the resolve script, each runs atomically on the identity slot:
 * KEYS[1] is the journal (so the call is routed to that slot), the other keys are built from ARGV[1], the index prefix.
 */

/**
 * FREEZE: the profiles of one erasure stop owning anything for the resolve script (the `erasing` hash), so from here on
 * no claim and no merge involves them; a merge decided before is in the journal and returned, for the caller to
 * complete (into the erased root) or to follow (the root was merged away: start again).
 * ARGV: index prefix, audit id, pids (the root first). The audit id of an erase of the root begun before (and cut
 * short) wins: a retry continues that erasure. Reply: {audit id, journal entries (JSON) naming one of the pids...}.
 */
export const FREEZE_SCRIPT = `
local I = ARGV[1]
local ERASING = I .. 'erasing'
local E = {}
for a = 3, #ARGV do E[ARGV[a]] = true end
local audit = redis.call('HGET', ERASING, ARGV[3]) or ARGV[2]
for a = 3, #ARGV do redis.call('HSET', ERASING, ARGV[a], audit) end
local out = { audit }
for _, v in ipairs(redis.call('HVALS', I .. 'merging')) do
  local j = cjson.decode(v)
  if E[j.root] or E[j.merged] then out[#out + 1] = v end
end
return out
`;

/** UNFREEZE: ARGV: index prefix, pids: no longer being erased (the erase starts again from the new root). */
export const UNFREEZE_SCRIPT = `
for a = 2, #ARGV do redis.call('HDEL', ARGV[1] .. 'erasing', ARGV[a]) end
return 1
`;

/**
 * FORGET: removes the erased profiles from the identity index: each identifier they own (`id:` keys still pointing at
 * one of them: an identifier claimed by another profile meanwhile stays with that one), their `ids:` hashes, their
 * journal entries (as merged, and the `into:` sets as root) and their `erasing` marks. Idempotent.
 * ARGV: index prefix, pids. Reply: {identifiers listed, identifier keys deleted, other index keys deleted}.
 */
export const FORGET_SCRIPT = `
local I = ARGV[1]
local JOURNAL = I .. 'merging'
local listed, removed, other = 0, 0, 0
for a = 2, #ARGV do
  local pid = ARGV[a]
  local f = redis.call('HKEYS', I .. 'ids:' .. pid)
  for _, field in ipairs(f) do
    if string.sub(field, 1, 1) ~= '#' then
      listed = listed + 1
      local key = I .. 'id:' .. field
      if redis.call('GET', key) == pid then removed = removed + redis.call('DEL', key) end
    end
  end
  other = other + redis.call('DEL', I .. 'ids:' .. pid)
  local j = redis.call('HGET', JOURNAL, pid)
  if j then
    redis.call('SREM', I .. 'into:' .. cjson.decode(j).root, pid)
    redis.call('HDEL', JOURNAL, pid)
  end
  for _, m in ipairs(redis.call('SMEMBERS', I .. 'into:' .. pid)) do redis.call('HDEL', JOURNAL, m) end
  other = other + redis.call('DEL', I .. 'into:' .. pid)
  redis.call('HDEL', I .. 'erasing', pid)
end
return { listed, removed, other }
`;
