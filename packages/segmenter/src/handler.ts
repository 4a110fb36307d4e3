/**
 * The segmenter's batch handler over `profile-changes` (and `profile-erased`), both keyed by profile id: per
 * key in offset order (one writer per profile), cross-key concurrently. For each change: retire the profiles
 * it absorbed (they exit with reason profile_merged), evaluate every definition over the new view and write
 * the membership changes with their outbox records in one Redis step. A scheduled tick carries no view: the
 * profile is read from the profile store. After the chunk's changes, each account their views name is evaluated once
 * (accounts.ts). Nothing is published here; the relay does that from the outbox.
 */
import {
  asRedisError,
  decodeMessageRaw,
  drop,
  failed,
  ok,
  perKey,
  ProfileStreamError,
  type BatchHandler,
  type HopTimer,
  type KitMessage,
  type Logger,
  type Outcome,
} from '@profile-stream/consumer-kit';
import type { ContractsRegistry, ProfileChanged, ProfileErased, TopicTable } from '@profile-stream/contracts';
import type { AccountStore, JsonValue, ProfileStore } from '@profile-stream/profile';
import type { SegmentDefinition } from '@profile-stream/segments';
import { accountOfMember, ChunkAccounts, evaluateAccount } from './accounts.ts';
import { evaluator } from './evaluate.ts';
import type { SegmenterMetrics } from './metrics.ts';
import type { ApplyResult } from './store/records.ts';
import type { MembershipStore } from './store/store.ts';

export interface HandlerDeps {
  defs: readonly SegmentDefinition[];
  registry: ContractsRegistry;
  topics: TopicTable;
  memberships: MembershipStore;
  profiles: ProfileStore;
  /** Account profiles (B2B): evaluated for the account segments when a change names a contact with an account. */
  accounts: AccountStore;
  metrics: SegmenterMetrics;
  log: Logger;
  now: () => number;
}

/** Remembers profiles already retired, so a survivor's every change does not re-run the retire script. */
class RetiredSet {
  private readonly set = new Set<string>();
  private readonly max: number;
  constructor(max = 100_000) {
    this.max = max;
  }
  has(pid: string): boolean {
    return this.set.has(pid);
  }
  add(pid: string): void {
    if (this.set.size >= this.max) this.set.delete(this.set.values().next().value!);
    this.set.add(pid);
  }
}

export function segmenterHandler(d: HandlerDeps): BatchHandler {
  const retired = new RetiredSet();
  const erasedTopic = d.topics['profile-erased'].topic;
  const evaluate = evaluator(d);

  /** What the store did with an evaluation, as the change's outcome (and its metrics). */
  function outcomeOf(pid: string, r: ApplyResult): Outcome {
    if (r.kind === 'ok') {
      d.metrics.changes.inc({ result: 'applied' });
      if (r.emitted) d.metrics.membershipChanges.inc(r.emitted);
      return ok();
    }
    if (r.kind === 'stale') {
      d.metrics.changes.inc({ result: 'stale' });
      return drop('stale_profile_version');
    }
    d.metrics.changes.inc({ result: 'dead_profile' });
    d.log.debug({ profile_id: pid, dead: r.dead }, 'change for a merged or erased profile ignored');
    return drop(r.dead.startsWith('merged:') ? 'profile_merged' : 'profile_erased');
  }

  async function retire(pid: string, how: { merged_into: string } | { erased: true }, at: number, triggerId: string | null, hops: HopTimer): Promise<void> {
    if (retired.has(pid)) return;
    const exits = await hops.time('retire', () => d.memberships.retire(pid, how, at, triggerId));
    if (exits) d.metrics.membershipChanges.inc(exits);
    retired.add(pid);
  }

  /** Where a change's view names the contact's account (evaluated once per chunk, after its changes). */
  type NoteAccount = (accountId: string, at: number, triggerId: string | null) => void;

  async function onChange(c: ProfileChanged, hops: HopTimer, noteAccount: NoteAccount): Promise<Outcome> {
    const account = accountOfMember(c.profile_id);
    if (account !== null) return outcomeOf(c.profile_id, await evaluateAccount(d, account, { kind: 'tick', at: c.occurred_at }, null, hops));
    if (c.cause === 'tick') {
      // The profile as it is now (following a merge alias: a merged profile retires instead).
      const p = await d.profiles.read(c.profile_id);
      if (p === undefined) return drop('profile_missing');
      if (p.profileId !== c.profile_id) {
        await retire(c.profile_id, { merged_into: p.profileId }, c.occurred_at, null, hops);
        return drop('profile_merged');
      }
      return outcomeOf(p.profileId, await evaluate.profile(p, { kind: 'tick', at: c.occurred_at }, null, hops));
    }
    if (c.cause === 'erase' || c.profile_json === null) {
      await retire(c.profile_id, { erased: true }, c.occurred_at, c.trigger_event_id, hops);
      return ok();
    }
    const parsing = hops.start('parse');
    const view = JSON.parse(c.profile_json) as JsonValue;
    parsing();
    const merged = (view as { merged_ids?: unknown }).merged_ids;
    for (const m of Array.isArray(merged) ? merged : []) {
      if (typeof m === 'string') await retire(m, { merged_into: c.profile_id }, c.occurred_at, c.trigger_event_id, hops);
    }
    const outcome = outcomeOf(
      c.profile_id,
      await evaluate.view(c.profile_id, c.profile_version, view, { kind: 'event', at: c.occurred_at }, c.trigger_event_id, hops),
    );
    const contactOf = (view as { account?: { account_id?: unknown } | null }).account?.account_id;
    if (typeof contactOf === 'string') noteAccount(contactOf, c.occurred_at, c.trigger_event_id);
    return outcome;
  }

  async function onErased(e: ProfileErased, hops: HopTimer): Promise<Outcome> {
    for (const pid of [e.profile_id, ...e.merged_ids]) await retire(pid, { erased: true }, e.occurred_at, e.event_id, hops);
    return ok();
  }

  /**
   * Each account named by the chunk's changes, evaluated once: the stitcher wrote every contact's snapshot before
   * publishing its change, so the account's contributions already hold the whole chunk. A failed evaluation becomes the
   * outcome of the changes that named the account (retried with them; a change's own effects are idempotent).
   */
  async function evaluateAccounts(named: ChunkAccounts, outcomes: Outcome[], hops: HopTimer): Promise<void> {
    await Promise.all(
      named.entries().map(async (a) => {
        try {
          await evaluateAccount(d, a.accountId, { kind: 'event', at: a.at }, a.triggerId, hops);
        } catch (err) {
          const out = failed(asRedisError(err));
          for (const i of a.messages) if (outcomes[i]!.kind === 'ok' || outcomes[i]!.kind === 'drop') outcomes[i] = out;
        }
      }),
    );
  }

  return async (messages, ctx) => {
    const index = new Map(messages.map((m, i) => [m, i]));
    const named = new ChunkAccounts();
    const outcomes = await perKey(
      async (m: KitMessage, { hops }) => {
        // Raw decode (no copy into plain objects): these records are flat, their unions already unwrapped.
        const decoded = await hops.time('decode', () => decodeMessageRaw<ProfileChanged | ProfileErased>(d.registry, m));
        const noteAccount: NoteAccount = (id, at, triggerId) => named.note(id, at, triggerId, index.get(m)!);
        try {
          return m.topic === erasedTopic
            ? await onErased(decoded.value as ProfileErased, hops)
            : await onChange(decoded.value as ProfileChanged, hops, noteAccount);
        } catch (err) {
          if (err instanceof SyntaxError) throw new ProfileStreamError('invalid_event', `profile_json is not JSON: ${err.message}`);
          throw asRedisError(err);
        }
      },
      { concurrency: 256 },
    )(messages, ctx);
    if (named.size > 0) await evaluateAccounts(named, outcomes, ctx.hops);
    return outcomes;
  };
}
