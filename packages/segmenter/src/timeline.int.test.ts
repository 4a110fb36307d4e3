/**
 * Timeline tests of the segmenter's decisions and its Redis step on a fake clock (real Redis): a table of
 * (time, what happens) → the membership events that must come out, with reason, exact occurred_at and version.
 * "clock" steps run the schedule as the scheduler does: every due re-evaluation in time order, at its instant.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Redis } from 'ioredis';
import { foldEvents, profileView, type FoldInput } from '@profile-stream/profile';
import { loadDefinitions, type SegmentDefinition } from '@profile-stream/segments';
import { D, H, T0, click, consent, purchase } from '@profile-stream/segments/testing';
import { evaluator, type Evaluator } from './evaluate.ts';
import { MembershipStore } from './store/store.ts';

const url = process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? 6379}`;
const DIR = fileURLToPath(new URL('../../../segments', import.meta.url));

type Out = [segment: string, change: 'entered' | 'exited', reason: string, occurredAt: number, version: number];
type Step =
  | { at: number; events: FoldInput[]; pid?: string; out: Out[]; note?: string }
  | { clock: number; out: Out[]; note?: string }
  | { at: number; merge: [survivor: string, merged: string]; out: Out[]; note?: string };

/** The segmenter's loop without Kafka: folds each profile's events, evaluates them as the service does, runs the schedule. */
class Harness {
  private readonly events = new Map<string, FoldInput[]>();
  private readonly versions = new Map<string, number>();
  private readonly merged = new Map<string, string[]>();
  private seen = 0;
  /** The fake clock the evaluations read. */
  private clockAt = 0;
  private readonly evaluate: Evaluator;
  readonly store: MembershipStore;
  readonly watch: ReadonlySet<string>;
  constructor(store: MembershipStore, defs: readonly SegmentDefinition[], watch: ReadonlySet<string>) {
    this.store = store;
    this.watch = watch;
    this.evaluate = evaluator({ defs, memberships: store, now: () => this.clockAt });
  }

  view(pid: string) {
    return profileView(foldEvents(this.events.get(pid) ?? []), { profile_id: pid, merged_ids: this.merged.get(pid) ?? [] });
  }

  async change(pid: string, now: number, trigger: number): Promise<void> {
    const v = (this.versions.get(pid) ?? 0) + 1;
    this.versions.set(pid, v);
    this.clockAt = now;
    await this.evaluate.view(pid, v, this.view(pid), { kind: 'event', at: trigger }, `trigger@${trigger}`);
  }

  async event(pid: string, now: number, inputs: FoldInput[]): Promise<void> {
    this.events.set(pid, [...(this.events.get(pid) ?? []), ...inputs]);
    await this.change(pid, now, Math.max(...inputs.map((e) => e.event.occurred_at)));
  }

  async merge(survivor: string, merged: string, now: number): Promise<void> {
    await this.store.retire(merged, { merged_into: survivor }, now, null);
    this.events.set(survivor, [...(this.events.get(survivor) ?? []), ...(this.events.get(merged) ?? [])]);
    this.merged.set(survivor, [...(this.merged.get(survivor) ?? []), merged]);
    await this.change(survivor, now, now);
  }

  /** Every due re-evaluation up to `to`, in time order, each at its exact instant. */
  async clock(to: number): Promise<void> {
    for (;;) {
      const due = (await this.store.dueBefore(0, to, 100)).sort((a, b) => a[1] - b[1]);
      if (due.length === 0) return;
      const [pid, at] = due[0]!;
      await this.store.unschedule(0, [[pid, at]]);
      this.clockAt = at;
      await this.evaluate.view(pid, this.versions.get(pid) ?? 0, this.view(pid), { kind: 'tick', at }, null);
    }
  }

  /** Outbox entries written since the last call (watched segments only). */
  async drain(): Promise<Out[]> {
    const entries = await this.store.outbox(0);
    const fresh = entries.slice(this.seen);
    this.seen = entries.length;
    return fresh
      .map((x) => x.event)
      .filter((e) => this.watch.has(e.segment_id))
      .map((e): Out => [e.segment_id, e.change, e.reason, e.occurred_at, e.membership_version]);
  }
}

const clients: Redis[] = [];
afterAll(() => {
  for (const c of clients) c.disconnect();
});
let defs: SegmentDefinition[];
beforeAll(async () => {
  defs = await loadDefinitions(DIR);
});

async function run(watch: string[], steps: Step[]): Promise<void> {
  const redis = new Redis(url);
  clients.push(redis);
  const h = new Harness(new MembershipStore(redis, { prefix: `t-${randomBytes(4).toString('hex')}:`, shards: 1 }), defs, new Set(watch));
  for (const [i, step] of steps.entries()) {
    if ('clock' in step) await h.clock(step.clock);
    else if ('merge' in step) await h.merge(step.merge[0], step.merge[1], step.at);
    else await h.event(step.pid ?? 'p1', step.at, step.events);
    const out = (await h.drain()).sort();
    assert.deepEqual(out, [...step.out].sort(), `step ${i}${step.note ? ` (${step.note})` : ''}`);
  }
}

describe('segmenter timelines (fake clock, real Redis)', () => {
  it('first purchase, dormancy at exactly last purchase + 180 d, a late order, a duplicate, a new order', async () => {
    const first = purchase(T0, 'o1');
    await run(
      ['first-time-buyer', 'occasional', 'dormant'],
      [
        {
          at: T0,
          events: [first],
          out: [
            ['first-time-buyer', 'entered', 'rule_matched', T0, 1],
            ['occasional', 'entered', 'rule_matched', T0, 1],
          ],
        },
        { clock: T0 + 180 * D - 1, out: [] },
        { clock: T0 + 200 * D, out: [['dormant', 'entered', 'time_elapsed', T0 + 180 * D, 1]], note: 'the exact instant' },
        {
          at: T0 + 201 * D,
          events: [purchase(T0 + 10 * D, 'o2')],
          out: [['first-time-buyer', 'exited', 'rule_unmatched', T0 + 10 * D, 2]],
          note: 'late order: still dormant since T0+190d',
        },
        { at: T0 + 202 * D, events: [first], out: [], note: 'duplicate' },
        { at: T0 + 300 * D, events: [purchase(T0 + 300 * D, 'o3')], out: [['dormant', 'exited', 'rule_unmatched', T0 + 300 * D, 2]] },
        { clock: T0 + 480 * D, out: [['dormant', 'entered', 'time_elapsed', T0 + 480 * D, 3]] },
      ],
    );
  });

  it('a profile first seen long after the facts enters at the instant the clock made it a member', async () => {
    await run(['dormant'], [{ at: T0 + 400 * D, events: [purchase(T0, 'o1')], out: [['dormant', 'entered', 'time_elapsed', T0 + 180 * D, 1]] }]);
  });

  it('consent: granted enters email-reachable, withdrawn exits with reason consent_withdrawn, granted again re-enters', async () => {
    await run(
      ['email-reachable'],
      [
        { at: T0, events: [click(T0, 'page_view')], out: [], note: 'e-mail known, no consent' },
        { at: T0 + D, events: [consent(T0 + D, 'email', true)], out: [['email-reachable', 'entered', 'rule_matched', T0 + D, 1]] },
        { at: T0 + 5 * D, events: [consent(T0 + 5 * D, 'email', false)], out: [['email-reachable', 'exited', 'consent_withdrawn', T0 + 5 * D, 2]] },
        { at: T0 + 9 * D, events: [consent(T0 + 9 * D, 'email', true)], out: [['email-reachable', 'entered', 'rule_matched', T0 + 9 * D, 3]] },
      ],
    );
  });

  it('stale contact: enters 365 d after the last e-mail confirmation exactly (scheduled), exits when an event confirms it', async () => {
    await run(
      ['stale-contact'],
      [
        { at: T0, events: [purchase(T0, 'o1')], out: [] },
        { at: T0 + 100 * D, events: [click(T0 + 100 * D, 'page_view', { anonymous: true })], out: [], note: 'no contact data: confirms nothing' },
        { clock: T0 + 365 * D - 1, out: [] },
        { clock: T0 + 400 * D, out: [['stale-contact', 'entered', 'time_elapsed', T0 + 365 * D, 1]], note: 'the exact instant' },
        { at: T0 + 410 * D, events: [click(T0 + 410 * D, 'page_view')], out: [['stale-contact', 'exited', 'rule_unmatched', T0 + 410 * D, 2]] },
        { clock: T0 + 800 * D, out: [['stale-contact', 'entered', 'time_elapsed', T0 + 775 * D, 3]] },
      ],
    );
  });

  it('cart abandoned: enters 1 h after the last cart activity exactly, exits on the purchase', async () => {
    await run(
      ['cart-abandoner'],
      [
        { at: T0, events: [click(T0, 'add_to_cart')], out: [] },
        { at: T0 + 30 * 60_000, events: [click(T0 + 30 * 60_000, 'add_to_cart')], out: [], note: 'more cart activity moves the hour' },
        { clock: T0 + 3 * H, out: [['cart-abandoner', 'entered', 'time_elapsed', T0 + 90 * 60_000, 1]] },
        { at: T0 + 4 * H, events: [purchase(T0 + 4 * H, 'o1')], out: [['cart-abandoner', 'exited', 'rule_unmatched', T0 + 4 * H, 2]] },
      ],
    );
  });

  it('merge: the absorbed profile exits with profile_merged; the survivor is re-evaluated; the dead one stays dead', async () => {
    await run(
      ['first-time-buyer', 'occasional', 'loyal'],
      [
        { at: T0, pid: 'pA', events: [0, 1, 2].map((i) => purchase(T0 - i * D, `a${i}`)), out: [['occasional', 'entered', 'rule_matched', T0, 1]] },
        {
          at: T0,
          pid: 'pB',
          events: [purchase(T0 - 5 * D, 'b1')],
          out: [
            ['first-time-buyer', 'entered', 'rule_matched', T0 - 5 * D, 1],
            ['occasional', 'entered', 'rule_matched', T0 - 5 * D, 1],
          ],
        },
        {
          at: T0 + D,
          merge: ['pA', 'pB'],
          out: [
            ['first-time-buyer', 'exited', 'profile_merged', T0 + D, 2],
            ['occasional', 'exited', 'profile_merged', T0 + D, 2],
            ['occasional', 'exited', 'rule_unmatched', T0 + D, 2],
            ['loyal', 'entered', 'rule_matched', T0 + D, 1],
          ],
        },
        { at: T0 + 2 * D, pid: 'pB', events: [purchase(T0 + 2 * D, 'b2')], out: [], note: 'a late change of the merged profile is refused' },
      ],
    );
  });

  it('a clock that jumps back never stamps a change before the previous one', async () => {
    await run(
      ['dormant'],
      [
        { at: T0, events: [purchase(T0, 'o1')], out: [] },
        { clock: T0 + 181 * D, out: [['dormant', 'entered', 'time_elapsed', T0 + 180 * D, 1]] },
        {
          at: T0 + 100 * D,
          events: [click(T0 + 100 * D, 'page_view')],
          out: [['dormant', 'exited', 'rule_unmatched', T0 + 180 * D, 2]],
          note: 'now is 81 d earlier than before',
        },
      ],
    );
  });
});
