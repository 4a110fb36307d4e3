/**
 * The segmenter's batch handler over `profile-changes` (and `profile-erased`), both keyed by profile id: per
 * key in offset order (one writer per profile), cross-key concurrently. For each change: retire the profiles
 * it absorbed (they exit with reason profile_merged) and decide every definition over the new view. A scheduled tick
 * carries no view: the profile is read from the profile store. After the chunk's changes, each account their views
 * name is decided once (accounts.ts). The chunk's evaluations are then written, membership changes with their outbox
 * records, in one script call per shard (apply-batch.ts). Nothing is published here; the relay does that from the outbox.
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
import { accountDecisions, accountMemberId, accountOfMember, ChunkAccounts } from './accounts.ts';
import { ApplyBatch } from './apply-batch.ts';
import { evaluator, viewOf } from './evaluate.ts';
import type { SegmenterMetrics } from './metrics.ts';
import type { ApplyResult, Evaluation } from './store/records.ts';
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

  /** A member's evaluation queued in the chunk's batch: its outcome once the batch is flushed. */
  type Step = Outcome | { kind: 'applying'; pid: string; ticket: number };
  /** What the handling of one message sees of its chunk. */
  interface InChunk {
    hops: HopTimer;
    batch: ApplyBatch;
    /** The change's view names the contact's account (evaluated once per chunk, after its changes). */
    noteAccount(accountId: string, at: number, triggerId: string | null): void;
  }
  const queue = (x: InChunk, e: Evaluation): Step => ({ kind: 'applying', pid: e.pid, ticket: x.batch.add(e) });

  async function retire(pid: string, how: { merged_into: string } | { erased: true }, at: number, triggerId: string | null, x: InChunk): Promise<void> {
    if (retired.has(pid)) return;
    if (x.batch.pending(pid)) await x.batch.flush(); // its evaluations queued earlier in the chunk land first
    const exits = await x.hops.time('retire', () => d.memberships.retire(pid, how, at, triggerId));
    if (exits) d.metrics.membershipChanges.inc(exits);
    retired.add(pid);
  }

  async function onChange(c: ProfileChanged, x: InChunk): Promise<Step> {
    const account = accountOfMember(c.profile_id);
    if (account !== null) {
      const now = d.now();
      return queue(x, {
        pid: c.profile_id,
        profileVersion: now,
        trigger: null,
        decisions: await accountDecisions(d, account, { kind: 'tick', at: c.occurred_at }, now),
      });
    }
    if (c.cause === 'tick') {
      // The profile as it is now (following a merge alias: a merged profile retires instead).
      const p = await d.profiles.read(c.profile_id);
      if (p === undefined) return drop('profile_missing');
      if (p.profileId !== c.profile_id) {
        await retire(c.profile_id, { merged_into: p.profileId }, c.occurred_at, null, x);
        return drop('profile_merged');
      }
      const decisions = evaluate.decide(viewOf(p), { kind: 'tick', at: c.occurred_at }, x.hops);
      return queue(x, { pid: p.profileId, profileVersion: p.version, trigger: null, decisions });
    }
    if (c.cause === 'erase' || c.profile_json === null) {
      await retire(c.profile_id, { erased: true }, c.occurred_at, c.trigger_event_id, x);
      return ok();
    }
    const parsing = x.hops.start('parse');
    const view = JSON.parse(c.profile_json) as JsonValue;
    parsing();
    const merged = (view as { merged_ids?: unknown }).merged_ids;
    for (const m of Array.isArray(merged) ? merged : []) {
      if (typeof m === 'string') await retire(m, { merged_into: c.profile_id }, c.occurred_at, c.trigger_event_id, x);
    }
    const decisions = evaluate.decide(view, { kind: 'event', at: c.occurred_at }, x.hops);
    const step = queue(x, { pid: c.profile_id, profileVersion: c.profile_version, trigger: c.trigger_event_id, decisions });
    const contactOf = (view as { account?: { account_id?: unknown } | null }).account?.account_id;
    if (typeof contactOf === 'string') x.noteAccount(contactOf, c.occurred_at, c.trigger_event_id);
    return step;
  }

  async function onErased(e: ProfileErased, x: InChunk): Promise<Outcome> {
    for (const pid of [e.profile_id, ...e.merged_ids]) await retire(pid, { erased: true }, e.occurred_at, e.event_id, x);
    return ok();
  }

  /**
   * Each account named by the chunk's changes, decided once: the stitcher wrote every contact's snapshot before
   * publishing its change, so the account's contributions already hold the whole chunk. Queued in the chunk's batch
   * (written with its profiles); a failure is the outcome of the changes that named the account (retried with them;
   * a change's own effects are idempotent).
   */
  async function queueAccounts(named: ChunkAccounts, x: InChunk): Promise<{ messages: readonly number[]; ticket?: number; error?: unknown }[]> {
    return Promise.all(
      named.entries().map(async (a) => {
        try {
          const now = d.now();
          const decisions = await accountDecisions(d, a.accountId, { kind: 'event', at: a.at }, now);
          return { messages: a.messages, ticket: x.batch.add({ pid: accountMemberId(a.accountId), profileVersion: now, trigger: a.triggerId, decisions }) };
        } catch (error) {
          return { messages: a.messages, error };
        }
      }),
    );
  }

  /**
   * A chunk: each message decided per key in offset order (perKey), every evaluation queued; then the accounts the
   * chunk named; then the whole batch written, one script call per shard (apply-batch.ts), and each outcome taken
   * from its evaluation's result.
   */
  return async (messages, ctx) => {
    const index = new Map(messages.map((m, i) => [m, i]));
    const named = new ChunkAccounts();
    const batch = new ApplyBatch(d.memberships, ctx.hops);
    const applying = new Map<number, { pid: string; ticket: number }>();
    const outcomes = await perKey(
      async (m: KitMessage, { hops }) => {
        const i = index.get(m)!;
        const x: InChunk = { hops, batch, noteAccount: (id, at, triggerId) => named.note(id, at, triggerId, i) };
        // Raw decode (no copy into plain objects): these records are flat, their unions already unwrapped.
        const decoded = await hops.time('decode', () => decodeMessageRaw<ProfileChanged | ProfileErased>(d.registry, m));
        try {
          const step = m.topic === erasedTopic ? await onErased(decoded.value as ProfileErased, x) : await onChange(decoded.value as ProfileChanged, x);
          if (step.kind !== 'applying') return step;
          applying.set(i, step);
          return ok(); // replaced by the evaluation's result below
        } catch (err) {
          if (err instanceof SyntaxError) throw new ProfileStreamError('invalid_event', `profile_json is not JSON: ${err.message}`);
          throw asRedisError(err);
        }
      },
      { concurrency: 256 },
    )(messages, ctx);
    const accounts = named.size > 0 ? await queueAccounts(named, { hops: ctx.hops, batch, noteAccount: () => undefined }) : [];
    await batch.flush();
    for (const [i, { pid, ticket }] of applying) {
      const r = batch.result(ticket);
      outcomes[i] = r.ok ? outcomeOf(pid, r.result) : failed(asRedisError(r.error));
    }
    for (const a of accounts) {
      const r = a.ticket === undefined ? undefined : batch.result(a.ticket);
      const error = r === undefined ? a.error : r.ok ? undefined : r.error;
      if (r === undefined || !r.ok) {
        const out = failed(asRedisError(error));
        for (const i of a.messages) if (outcomes[i]!.kind === 'ok' || outcomes[i]!.kind === 'drop') outcomes[i] = out;
      }
    }
    return outcomes;
  };
}
