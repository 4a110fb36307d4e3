/**
 * Account profiles in Redis (issue 15; the model is account.ts). One key per account, on its own slot:
 *   <prefix>a:{a:<account id>}:contacts → HASH contact pid → JSON Contribution (a snapshot of the contact's profile)
 *   <prefix>accounts                    → ZSET account id → last time a contact's snapshot was written (the listing
 *                                          the segmenter and `profile-stream account` walk; written after the script)
 * The account profile is the sum of its contacts' snapshots (accountView), computed when read.
 *
 * Scripts (each touches one account's key, so it is atomic per account and runs on Redis Cluster):
 *   psAccountUpsert(contacts; pid, version, json, merged pids…) writes the contact's snapshot unless the stored one
 *     has a newer profile version, and drops the profiles merged into the contact (their data is in its snapshot now).
 *   psAccountLeave(contacts; pid, t, id, merged pids…) removes the contact from an account it left: only when the
 *     stored snapshot's account cell (t, id) is older than the contact's current one, so a contact is moved, never
 *     duplicated nor lost; drops the merged profiles too.
 * Both are idempotent: the stitcher calls them after every fold that touched a contact with an account (a retried chunk
 * calls them again with the same snapshots). A snapshot is taken from the folded document, which is itself
 * order-independent and de-duplicated by event_id, so the account is too.
 */
import type { Redis } from 'ioredis';
import { accountView, contactContribution, formerAccounts, type AccountView, type Contribution } from '../account.ts';
import type { ProfileDoc } from '../doc.ts';
import { scriptCommand, type ScriptCall } from './commands.ts';

const UPSERT = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local wrote = 0
if (not cur) or tonumber(cjson.decode(cur).version) <= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  wrote = 1
end
for i = 4, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
return wrote`;

// Lua compares strings with strcoll; Redis runs scripts in the C locale, so '<' is byte order (as cmpStr in doc.ts).
const LEAVE = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local left = 0
if cur then
  local c = cjson.decode(cur)
  local t = tonumber(ARGV[2])
  if c.t < t or (c.t == t and c.id < ARGV[3]) then
    redis.call('HDEL', KEYS[1], ARGV[1])
    left = 1
  end
end
for i = 4, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
return left`;

/** A folded profile as the stitcher has it after the fold (FoldResult's fields). */
export interface FoldedContact {
  profileId: string;
  version: number;
  doc: Record<string, unknown>;
  mergedIds: readonly string[];
}

export interface AccountApplied {
  written: number;
  left: number;
}

export class AccountStore {
  private readonly upsert: ScriptCall<number>;
  private readonly leave: ScriptCall<number>;

  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
    this.upsert = scriptCommand(redis, 'psAccountUpsert', UPSERT, 1);
    this.leave = scriptCommand(redis, 'psAccountLeave', LEAVE, 1);
  }

  contactsKey(accountId: string): string {
    return `${this.prefix}a:{a:${accountId}}:contacts`;
  }

  get listKey(): string {
    return `${this.prefix}accounts`;
  }

  /** Applies the contacts of a chunk's folds to their accounts (contacts without an account are skipped). */
  async apply(contacts: readonly FoldedContact[], now: number): Promise<AccountApplied> {
    const out: AccountApplied = { written: 0, left: 0 };
    const touched = new Set<string>();
    await Promise.all(
      contacts.map(async (f) => {
        const doc = f.doc as ProfileDoc;
        const c = contactContribution(f.profileId, f.version, doc);
        if (c === null) return;
        const accountId = doc.account!.id!.v;
        touched.add(accountId);
        const merged = [...f.mergedIds];
        const [wrote, ...left] = await Promise.all([
          this.upsert([this.contactsKey(accountId)], [f.profileId, f.version, JSON.stringify(c), ...merged]),
          ...formerAccounts(doc).map((former) => this.leave([this.contactsKey(former)], [f.profileId, c.t, c.id, ...merged])),
        ]);
        out.written += wrote ?? 0;
        for (const n of left) out.left += n;
      }),
    );
    if (touched.size) await this.redis.zadd(this.listKey, ...[...touched].flatMap((id) => [now, id]));
    return out;
  }

  /** Erasure: the profiles leave the accounts they were counted in, unconditionally (store/erase.ts). */
  async forget(accountIds: readonly string[], pids: readonly string[]): Promise<number> {
    if (pids.length === 0) return 0;
    const removed = await Promise.all(accountIds.map((id) => this.redis.hdel(this.contactsKey(id), ...pids)));
    return removed.reduce((a, b) => a + b, 0);
  }

  async contributions(accountId: string): Promise<Contribution[]> {
    const all = await this.redis.hgetall(this.contactsKey(accountId));
    return Object.values(all).map((json) => JSON.parse(json) as Contribution);
  }

  /** The account profile, or null when no contact belongs to it. */
  async view(accountId: string, now: number): Promise<AccountView | null> {
    const contributions = await this.contributions(accountId);
    return contributions.length === 0 ? null : accountView(accountId, contributions, now);
  }

  /** Account ids, most recently updated first. */
  async list(limit = 1000): Promise<string[]> {
    return this.redis.zrevrange(this.listKey, 0, limit - 1);
  }
}
