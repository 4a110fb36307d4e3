/**
 * The profile scripts, built around the profile join (LUA_JOIN, generated from the declared RULES). Each runs
 * atomically on the keys of ONE profile, always given as KEYS = doc, seen, meta, alias, pending, merged, erased
 * (KeySpace.profileArgs). A profile with an erasure tombstone (erase.ts) is refused by each: nothing is written to it. Together they move a merged profile's data into its survivor exactly once:
 *   PREPARE(survivor)  the survivor will absorb m: its folds wait until m is absorbed (pending)
 *   SEAL(m)            m takes an alias; from then on nothing is folded into m, and its data is final
 *   COPY_SEEN(survivor) m's de-duplication window, page by page (idempotent)
 *   ABSORB(survivor)   m's document is joined in once (the merged set is the idempotency key), pending cleared
 *   CLEANUP(m)         m's data is removed; only its alias stays
 * Invariants the order gives: a profile is sealed only while nothing is pending into it; m is sealed towards a
 * survivor only after that survivor was prepared for m; so a fold never lands on a survivor that lacks data (or
 * de-duplication entries) of a profile sealed into it.
 */
import { LUA_JOIN } from '../lua.ts';

/**
 * What ABSORB runs on: the join (ps_join, ps_encode and the rules' table). Built once per server where Redis
 * Functions exist (7.0+: scriptCommand's prelude), not on every call (~60 µs of Redis time each, measured: nearly
 * half of a small profile's fold).
 */
export const JOIN_PRELUDE = LUA_JOIN;

const PROFILE_HEAD = `
local K_DOC, K_SEEN, K_META, K_ALIAS, K_PENDING, K_MERGED, K_ERASED = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
`;

/**
 * FOLD: apply a batch of events of one profile. The caller joined the document itself (join.ts: the same join as
 * ps_join, property-tested against it) from the document it read at `expected_version` and the events' fragments,
 * and the script writes it only if the profile is still at that version (compare-and-set). The join used to run here
 * (decode, join and encode of the whole document in Lua): ~370 µs of Redis time per fold at 1,000 purchases/s, 40 %
 * of the server's busy time (issue 12); the check-and-set is a few µs, and the doc no longer travels back.
 * ARGV: window_ms, now (arrival time, ms), expected_version, the new document JSON, then the events' ids.
 * Nothing is written unless every event is new: otherwise the reply lists the duplicates and the caller joins the
 * rest again and retries (rare: replays and redeliveries). The window is measured on arrival: an event id stays in
 * `seen` for window_ms after it was applied, whatever its occurred_at.
 * Replies: {'erased', tombstone} | {'moved', alias} | {'busy', pending...} | {'dups', json list} |
 *   {'stale', version, doc_json or ''} (another writer moved the profile on: the caller joins again on this) |
 *   {'ok', version, applied, merged...}. 'erased': the profile was erased (the caller resolves again: the events
 *   belong to a new profile).
 */
export const FOLD_SCRIPT = `${PROFILE_HEAD}
local erased = redis.call('GET', K_ERASED)
if erased then return {'erased', erased} end
local alias = redis.call('GET', K_ALIAS)
if alias then return {'moved', alias} end
local pending = redis.call('SMEMBERS', K_PENDING)
if #pending > 0 then return {'busy', unpack(pending)} end
local now = tonumber(ARGV[2])
local dups = {}
for i = 5, #ARGV do
  if redis.call('ZSCORE', K_SEEN, ARGV[i]) then dups[#dups + 1] = ARGV[i] end
end
if #dups > 0 then return {'dups', cjson.encode(dups)} end
local version = tonumber(redis.call('HGET', K_META, 'version') or 0)
if version ~= tonumber(ARGV[3]) then return {'stale', version, redis.call('GET', K_DOC) or ''} end
local applied = #ARGV - 4
if applied > 0 then
  for i = 5, #ARGV do redis.call('ZADD', K_SEEN, now, ARGV[i]) end
  redis.call('ZREMRANGEBYSCORE', K_SEEN, '-inf', '(' .. string.format('%d', now - tonumber(ARGV[1])))
  redis.call('SET', K_DOC, ARGV[4])
  version = redis.call('HINCRBY', K_META, 'version', 1)
  redis.call('HSETNX', K_META, 'created_at', ARGV[2])
end
return {'ok', version, applied, unpack(redis.call('SMEMBERS', K_MERGED))}
`;

/**
 * PREPARE: ARGV: m. Replies {'moved', alias} (this profile was sealed itself) | {'done'} (m absorbed) | {'ok'} |
 * {'erased'} (this profile was erased: the merge is void).
 */
export const PREPARE_SCRIPT = `${PROFILE_HEAD}
if redis.call('EXISTS', K_ERASED) == 1 then return {'erased'} end
local alias = redis.call('GET', K_ALIAS)
if alias then return {'moved', alias} end
if redis.call('SISMEMBER', K_MERGED, ARGV[1]) == 1 then return {'done'} end
redis.call('SADD', K_PENDING, ARGV[1])
return {'ok'}
`;

/**
 * SEAL: ARGV: survivor. Sets the alias unless set (a profile is sealed once, towards one survivor), unless merges
 * into this profile are pending (reply {'busy', pending...}: they complete first). Reply {'sealed', alias, doc or '',
 * seen size, merged...}: the alias that holds (it may be another survivor's) and the now final data; {'erased'} when
 * this profile was erased (the merge is void).
 */
export const SEAL_SCRIPT = `${PROFILE_HEAD}
if redis.call('EXISTS', K_ERASED) == 1 then return {'erased'} end
local alias = redis.call('GET', K_ALIAS)
if not alias then
  local pending = redis.call('SMEMBERS', K_PENDING)
  if #pending > 0 then return {'busy', unpack(pending)} end
  redis.call('SET', K_ALIAS, ARGV[1])
  alias = ARGV[1]
end
return {'sealed', alias, redis.call('GET', K_DOC) or '', redis.call('ZCARD', K_SEEN), unpack(redis.call('SMEMBERS', K_MERGED))}
`;

/** UNPREPARE: ARGV: m, sealed towards another survivor: it is not pending here. */
export const UNPREPARE_SCRIPT = `${PROFILE_HEAD}
return redis.call('SREM', K_PENDING, ARGV[1])
`;

/**
 * COPY_SEEN: ARGV: m, then (arrival, event_id) pairs of m's window. Kept at the later arrival. Skipped once m is
 * absorbed or this profile sealed (a late helper: the first absorber copied everything). Reply: pairs written.
 */
export const COPY_SEEN_SCRIPT = `${PROFILE_HEAD}
if redis.call('EXISTS', K_ALIAS, K_ERASED) > 0 or redis.call('SISMEMBER', K_MERGED, ARGV[1]) == 1 then return 0 end
if #ARGV > 1 then redis.call('ZADD', K_SEEN, 'GT', unpack(ARGV, 2)) end
return (#ARGV - 1) / 2
`;

/**
 * ABSORB: ARGV: m, m's final doc JSON (or ''), then the ids m had absorbed. Joins m's document once, records m and
 * its absorbed ids as merged, clears m from pending. Replies {'ok', version} | {'already'} (absorbed before; or this
 * profile is sealed, which it can only be once m, pending here, was absorbed; or it was erased).
 */
export const ABSORB_SCRIPT = `${PROFILE_HEAD}
if redis.call('EXISTS', K_ERASED) == 1 then return {'already'} end
if redis.call('SISMEMBER', K_MERGED, ARGV[1]) == 1 or redis.call('EXISTS', K_ALIAS) == 1 then
  redis.call('SREM', K_PENDING, ARGV[1])
  return {'already'}
end
if ARGV[2] ~= '' then
  local raw = redis.call('GET', K_DOC)
  local doc = raw and cjson.decode(raw) or {}
  redis.call('SET', K_DOC, ps_encode(ps_join(doc, cjson.decode(ARGV[2]))))
end
redis.call('SADD', K_MERGED, ARGV[1], unpack(ARGV, 3))
redis.call('SREM', K_PENDING, ARGV[1])
return {'ok', redis.call('HINCRBY', K_META, 'version', 1)}
`;

/** CLEANUP: removes a sealed profile's data (its alias stays for redirection). Reply: 1, or 0 when not sealed. */
export const CLEANUP_SCRIPT = `${PROFILE_HEAD}
if redis.call('EXISTS', K_ALIAS) == 0 then return 0 end
redis.call('DEL', K_DOC, K_SEEN, K_META, K_PENDING, K_MERGED)
return 1
`;
