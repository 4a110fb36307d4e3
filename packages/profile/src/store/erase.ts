/**
 * Erasure of a customer: the live root a ref leads to and every profile merged into it, from Redis, in an order that
 * lets nothing bring them back:
 *   1. merges pending into the root are completed (its data is whole), then FREEZE (identity slot): from here on the
 *      resolve script treats the profiles as owning nothing, so no event claims an identifier for them or merges them;
 *      a merge decided just before is completed first (into the root), or followed (the root was merged away: again);
 *   2. the audit record is written (state `erasing`: pids, identifier hashes, who, why; no PII);
 *   3. a tombstone on each pid (`p:{pid}:erased`: audit id and time): every profile script refuses it, so a fold that
 *      still holds the id (a stitcher's resolution cache, a resolution made before step 1) changes nothing and the
 *      stitcher resolves again, to a new profile;
 *   4. FORGET (identity slot): the identifiers' index entries still pointing at the pids, their identifier sets,
 *      journal entries and `erasing` marks;
 *   5. the profile keys (doc, seen, meta, alias, pending, merged): only the tombstones stay;
 *   6. the audit record is completed (counts, state `erased`), appended to the audit stream, and each identifier hash
 *      points at it (so an identifier ref finds the erasure once nothing owns the identifier).
 * The caller then publishes (profile-erased, profile-changes) and marks the record `published`. Every step is
 * idempotent: an erase cut short anywhere is continued by the next erase of the same ref (the root's `erasing` mark
 * or its tombstone keeps the audit id), and one erased but not published is published again.
 *
 * The merge log (STREAM mergelog) keeps its entries: they carry profile ids and identifier types, never values.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ProfileDoc } from '../doc.ts';
import { ProfileError } from '../errors.ts';
import type { ParsedRef } from '../ref.ts';
import { AccountStore } from './accounts.ts';
import { scriptCommand, type ScriptCall } from './commands.ts';
import { FORGET_SCRIPT, FREEZE_SCRIPT, UNFREEZE_SCRIPT } from './erase-scripts.ts';
import { openGate, type Gate } from './gate.ts';
import type { IdentityResolver } from './identity.ts';
import type { IdentifierType, KeySpace } from './keys.ts';

export interface EraseRequest {
  /** Who asked: an API key id, or `cli:<user>`. */
  requestedBy: string;
  requestId: string;
  reason: string | null;
  /** The identifier hash of ProfileErased.identifier_hashes (HMAC-SHA256 of "type:value" with PII_HASH_KEY). */
  hash: (type: IdentifierType, value: string) => string;
}

/** The audit record of an erasure: no PII (profile ids, counts, identifier hashes). */
export interface ErasureRecord {
  audit_id: string;
  profile_id: string;
  merged_ids: string[];
  identifier_hashes: string[];
  requested_by: string;
  request_id: string;
  reason: string | null;
  /** When the erase began (ms). */
  at: number;
  /** The root's version when it was erased. */
  version: number;
  /** What was removed (absent until the erase completed). */
  counts?: { identifiers: number; keys: number; merged_profiles: number };
}

export type ErasureState = 'erasing' | 'erased' | 'published';

export interface Erasure {
  /** `erased`: by this call; `already`: by an earlier one (the original record). */
  outcome: 'erased' | 'already';
  record: ErasureRecord;
  /** Whether its records were published (an erase whose publishing failed is published again by the next call). */
  published: boolean;
}

export interface EraserOptions {
  redis: Redis;
  keys: KeySpace;
  resolver: IdentityResolver;
  /** Follows aliases to the live root. */
  root: (pid: string) => Promise<string>;
  now: () => number;
  gate?: Gate;
}

const MAX_ROUNDS = 16;

interface JournalEntry {
  merged: string;
  root: string;
}

export class Eraser {
  private readonly redis: Redis;
  private readonly keys: KeySpace;
  private readonly o: EraserOptions;
  private readonly gate: Gate;
  private readonly freezeScript: ScriptCall<string[]>;
  private readonly unfreezeScript: ScriptCall<number>;
  private readonly forgetScript: ScriptCall<number[]>;

  constructor(o: EraserOptions) {
    this.o = o;
    this.redis = o.redis;
    this.keys = o.keys;
    this.gate = o.gate ?? openGate;
    this.freezeScript = scriptCommand(o.redis, 'psEraseFreeze', FREEZE_SCRIPT, 1);
    this.unfreezeScript = scriptCommand(o.redis, 'psEraseUnfreeze', UNFREEZE_SCRIPT, 1);
    this.forgetScript = scriptCommand(o.redis, 'psEraseForget', FORGET_SCRIPT, 1);
  }

  /** Erases what the ref leads to; undefined when it leads to nothing, live or erased. */
  async erase(ref: ParsedRef, req: EraseRequest): Promise<Erasure | undefined> {
    if (ref.kind !== 'profile_id') {
      const owner = await this.o.resolver.owner(ref.kind, ref.value);
      if (owner === undefined) return this.known(await this.redis.hget(this.keys.erasedIds, req.hash(ref.kind, ref.value)));
      return this.eraseProfile(owner, req);
    }
    return this.eraseProfile(ref.value, req);
  }

  /** The audit record of an erasure, and its state. */
  async audit(auditId: string): Promise<{ record: ErasureRecord; state: ErasureState } | undefined> {
    const h = await this.redis.hgetall(this.keys.audit(auditId));
    if (!h.record) return undefined;
    return { record: JSON.parse(h.record) as ErasureRecord, state: (h.state ?? 'erasing') as ErasureState };
  }

  /** The caller published the erasure's records. */
  async published(auditId: string): Promise<void> {
    await this.redis.hset(this.keys.audit(auditId), 'state', 'published');
  }

  /** The audit id of an erased profile (its tombstone), if it was erased. */
  async tombstone(pid: string): Promise<string | undefined> {
    const t = await this.redis.get(this.keys.profile(pid).erased);
    return t === null ? undefined : (JSON.parse(t) as { audit_id: string }).audit_id;
  }

  /** An erasure found by its audit id: continued when it was cut short, else `already`. */
  private async known(auditId: string | null | undefined): Promise<Erasure | undefined> {
    if (!auditId) return undefined;
    const a = await this.audit(auditId);
    if (!a) return undefined;
    if (a.state === 'erasing') return { outcome: 'already', record: await this.finish(a.record), published: false };
    return { outcome: 'already', record: a.record, published: a.state === 'published' };
  }

  private async eraseProfile(pid: string, req: EraseRequest): Promise<Erasure | undefined> {
    const auditId = randomUUID();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const erased = await this.tombstone(pid);
      if (erased) return this.known(erased);
      const root = await this.o.root(pid);
      if (root !== pid) {
        const t = await this.tombstone(root);
        if (t) return this.known(t);
      }
      const p = this.keys.profile(root);
      // A profile with data, or one an identifier resolved to before any fold (separate calls: two slots).
      const [data, owned] = await Promise.all([this.redis.exists(p.doc, p.meta), this.redis.exists(this.keys.owned(root))]);
      if (data + owned === 0) return undefined;
      await this.o.resolver.completeAll(await this.o.resolver.pending([root]));
      const frozen = await this.freeze(root, auditId);
      if (!frozen) continue; // the root was merged into another profile meanwhile: erase that one
      const version = Number((await this.redis.hget(p.meta, 'version')) ?? 0);
      const hashes = await this.identifierHashes(frozen.pids, req);
      const record: ErasureRecord = {
        audit_id: frozen.auditId,
        profile_id: root,
        merged_ids: frozen.pids.slice(1).sort(),
        identifier_hashes: hashes,
        requested_by: req.requestedBy,
        request_id: req.requestId,
        reason: req.reason,
        at: this.o.now(),
        version,
      };
      // An erase of this root begun before and cut short keeps its record (and audit id).
      await this.redis.hsetnx(this.keys.audit(record.audit_id), 'record', JSON.stringify(record));
      const held = await this.audit(record.audit_id);
      return { outcome: 'erased', record: await this.finish(held?.record ?? record), published: false };
    }
    throw new ProfileError('identity_contention', `erase of ${pid} kept meeting concurrent merges (${MAX_ROUNDS} rounds)`);
  }

  /**
   * FREEZE the root and the profiles merged into it, completing merges decided into them just before. Undefined
   * when the root was merged away (unfrozen again: the caller starts over from the ref).
   */
  private async freeze(root: string, auditId: string): Promise<{ auditId: string; pids: string[] } | undefined> {
    let pids = [root, ...(await this.redis.smembers(this.keys.profile(root).merged)).sort()];
    for (let round = 0; round < MAX_ROUNDS; round++) {
      await this.gate('erase:freeze', { profile: root });
      const [held, ...raw] = await this.freezeScript([this.keys.journal], [this.keys.index, auditId, ...pids]);
      const entries = raw.map((v) => JSON.parse(v) as JournalEntry);
      if (entries.some((e) => e.merged === root)) {
        await this.unfreezeScript([this.keys.journal], [this.keys.index, ...pids]);
        await this.o.resolver.completeAll(await this.o.resolver.pending());
        return undefined;
      }
      await this.o.resolver.completeAll(await this.o.resolver.pending([root]));
      const now = [root, ...(await this.redis.smembers(this.keys.profile(root).merged)).sort()];
      if (now.length === pids.length) return { auditId: held!, pids };
      pids = now;
    }
    throw new ProfileError('identity_contention', `erase of ${root} kept meeting merges into it (${MAX_ROUNDS} rounds)`);
  }

  /** The hashes of every identifier the (frozen) profiles own. */
  private async identifierHashes(pids: readonly string[], req: EraseRequest): Promise<string[]> {
    const fields = (await Promise.all(pids.map((pid) => this.redis.hkeys(this.keys.owned(pid))))).flat().filter((f) => !f.startsWith('#'));
    return [
      ...new Set(
        fields.map((f) => {
          const at = f.indexOf(':');
          return req.hash(f.slice(0, at) as IdentifierType, f.slice(at + 1));
        }),
      ),
    ].sort();
  }

  /** Steps 3–6 for a record written in step 2 (again, when an erase was cut short). */
  private async finish(record: ErasureRecord): Promise<ErasureRecord> {
    const pids = [record.profile_id, ...record.merged_ids];
    const tombstone = JSON.stringify({ audit_id: record.audit_id, at: record.at });
    await this.gate('erase:tombstone', { profile: record.profile_id });
    await Promise.all(pids.map((pid) => this.redis.set(this.keys.profile(pid).erased, tombstone, 'NX')));
    await this.gate('erase:forget', { profile: record.profile_id });
    const [listed, removed, other] = await this.forgetScript([this.keys.journal], [this.keys.index, ...pids]);
    await this.gate('erase:delete', { profile: record.profile_id });
    // the erased customer's orders stop counting for the accounts it was in (its snapshot there holds its profile id)
    const doc = await this.redis.get(this.keys.profile(record.profile_id).doc);
    const accounts = doc === null ? [] : Object.keys((JSON.parse(doc) as ProfileDoc).account?.seen ?? {});
    await new AccountStore(this.redis, this.keys.prefix).forget(accounts, pids);
    const deleted = await Promise.all(
      pids.map((pid) => {
        const k = this.keys.profile(pid);
        return this.redis.del(k.doc, k.seen, k.meta, k.alias, k.pending, k.merged);
      }),
    );
    const counts = {
      identifiers: Number(listed),
      keys: Number(removed) + Number(other) + deleted.reduce((a, b) => a + b, 0),
      merged_profiles: record.merged_ids.length,
    };
    const done: ErasureRecord = { ...record, counts: record.counts ?? counts };
    const key = this.keys.audit(record.audit_id);
    // One writer appends the record to the stream (two erases of one profile at once share the audit id).
    if ((await this.redis.hsetnx(key, 'logged', '1')) === 1) {
      await this.redis.xadd(this.keys.auditLog, '*', ...Object.entries(streamFields(done)).flat());
    }
    if (done.identifier_hashes.length) {
      await this.redis.hset(this.keys.erasedIds, ...done.identifier_hashes.flatMap((h) => [h, record.audit_id]));
    }
    await this.redis.hset(key, 'record', JSON.stringify(done), 'state', 'erased');
    return done;
  }
}

/** The audit stream's fields of a record (flat strings; lists and counts as JSON). */
function streamFields(r: ErasureRecord): Record<string, string> {
  return {
    audit_id: r.audit_id,
    at: new Date(r.at).toISOString(),
    requested_by: r.requested_by,
    request_id: r.request_id,
    reason: r.reason ?? '',
    profile_id: r.profile_id,
    merged_ids: JSON.stringify(r.merged_ids),
    identifier_hashes: JSON.stringify(r.identifier_hashes),
    counts: JSON.stringify(r.counts),
  };
}
