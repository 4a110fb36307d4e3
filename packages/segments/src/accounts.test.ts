// Account segments on a fake clock: a table of (time, event) steps and the membership changes expected at their exact
// instants, the time-driven ones (time_elapsed) fired at the instants nextAccountInstant schedules.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import type { Purchase, SupportTicket } from '@profile-stream/contracts';
import { contactContribution, eventFragment, join, type Contribution, type NormalisedIds, type ProfileDoc } from '@profile-stream/profile';
import { ACCOUNT_SEGMENT_DEFAULTS, accountChanges, accountMemberships, nextAccountInstant, type AccountMembershipChange } from './accounts.ts';

const DAY = 86_400_000;
const T = Date.UTC(2026, 0, 5, 9);
const NO_IDS = { dropped: [] } as unknown as NormalisedIds;
const none = { anonymous_id: null, user_id: null, email: null, phone: null };
const ACME = { account_id: 'acct-1', name: 'Acme Ltd', domain: 'acme.example' };
let seq = 0;

type Step = { at: number; pid: string } & ({ topic: 'purchases'; event: Purchase } | { topic: 'support-tickets'; event: SupportTicket });
const order = (at: number, pid: string, total: number): Step => ({
  at,
  pid,
  topic: 'purchases',
  event: {
    ...none,
    event_id: `e${seq++}`,
    occurred_at: at,
    account: ACME,
    order_id: `o${seq}`,
    status: 'completed',
    channel: 'web',
    currency: 'GBP',
    total_minor: total,
    items: [],
  },
});
const ticket = (at: number, pid: string, status: SupportTicket['status']): Step => ({
  at,
  pid,
  topic: 'support-tickets',
  event: {
    ...none,
    event_id: `e${seq++}`,
    occurred_at: at,
    account: ACME,
    ticket_id: 'k1',
    status,
    channel: 'chat',
    priority: 'urgent',
    category: null,
    subject: null,
    satisfaction: null,
  },
});

/** Runs the steps on a fake clock until `end`: scheduled instants strictly before a step fire first, at their instant. */
function run(steps: readonly Step[], end: number, p = ACCOUNT_SEGMENT_DEFAULTS): AccountMembershipChange[] {
  const docs = new Map<string, { doc: ProfileDoc; version: number }>();
  const contributions = (): Contribution[] => [...docs].flatMap(([pid, d]) => contactContribution(pid, d.version, d.doc) ?? []);
  let members = new Set<string>();
  const out: AccountMembershipChange[] = [];
  const evaluate = (at: number, byTime: boolean) => {
    const next = accountMemberships('acct-1', contributions(), at, p);
    out.push(...accountChanges('acct-1', members, next, at, byTime));
    members = next;
  };
  let clock = -Infinity;
  for (const s of steps) {
    for (let t = nextAccountInstant(contributions(), clock, p); t !== null && t < s.at; t = nextAccountInstant(contributions(), t, p)) evaluate(t, true);
    const d = docs.get(s.pid) ?? { doc: {}, version: 0 };
    docs.set(s.pid, { doc: join(d.doc, eventFragment(s.topic, s.event as never, NO_IDS)), version: d.version + 1 });
    evaluate(s.at, false);
    clock = s.at;
  }
  for (let t = nextAccountInstant(contributions(), clock, p); t !== null && t <= end; t = nextAccountInstant(contributions(), t, p)) evaluate(t, true);
  return out;
}

const row = (c: AccountMembershipChange) => [(c.occurred_at - T) / DAY, c.segment_id, c.change, c.reason];

describe('account segments on a fake clock', () => {
  it('key-account, account-at-risk and new-account enter and exit at their exact instants', () => {
    const steps = [order(T, 'p1', 600_000), order(T + 10 * DAY, 'p2', 500_000), ticket(T + 20 * DAY, 'p2', 'opened'), ticket(T + 25 * DAY, 'p2', 'resolved')];
    assert.deepEqual(run(steps, T + 400 * DAY).map(row), [
      [0, 'new-account', 'entered', 'rule_matched'],
      [10, 'key-account', 'entered', 'rule_matched'],
      [20, 'account-at-risk', 'entered', 'rule_matched'],
      [25, 'account-at-risk', 'exited', 'rule_unmatched'],
      [30, 'new-account', 'exited', 'time_elapsed'],
      [100, 'account-at-risk', 'entered', 'time_elapsed'], // the last order (day 10) + 90 days
      [365, 'key-account', 'exited', 'time_elapsed'], // p1's order leaves the 365-day window
      [375, 'account-at-risk', 'exited', 'time_elapsed'], // and p2's: no revenue left in the window
    ]);
  });

  it('an order after the no-order window ends account-at-risk by the rule; thresholds are parameters', () => {
    const steps = [order(T, 'p1', 300_000), order(T + 120 * DAY, 'p1', 10)];
    assert.deepEqual(run(steps, T + 130 * DAY).map(row), [
      [0, 'new-account', 'entered', 'rule_matched'],
      [30, 'new-account', 'exited', 'time_elapsed'],
      [90, 'account-at-risk', 'entered', 'time_elapsed'],
      [120, 'account-at-risk', 'exited', 'rule_unmatched'],
    ]);
    const lower = { ...ACCOUNT_SEGMENT_DEFAULTS, key_account_minor: 300_000 };
    assert.deepEqual(run([order(T, 'p1', 300_000)], T, lower).map(row), [
      [0, 'key-account', 'entered', 'rule_matched'],
      [0, 'new-account', 'entered', 'rule_matched'],
    ]);
  });

  it('membership changes carry entity account and the account id', () => {
    const [c] = run([order(T, 'p1', 5)], T);
    assert.equal(c?.entity, 'account');
    assert.equal(c?.profile_id, 'acct-1');
  });
});
