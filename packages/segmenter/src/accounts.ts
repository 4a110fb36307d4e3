/**
 * Account-level segments in the segmenter (issue 15; the rules are packages/segments/src/accounts.ts). An account is
 * evaluated once per chunk of profile changes that name a contact of it (the change's view has `account`), and at the
 * instants nextAccountInstant schedules (ticks on profile-changes like a profile's, for the member `account:<id>`).
 * Its memberships live in the same membership store under the member id `account:<id>`; the relay publishes them with
 * `entity: account` and `profile_id` = the account id. The membership version guard uses the evaluation time: a later
 * evaluation of the account wins over an earlier one.
 */
import type { AccountStore } from '@profile-stream/profile';
import { ACCOUNT_SEGMENTS, accountMemberships, nextAccountInstant } from '@profile-stream/segments';
import type { Decision } from './store/records.ts';

const PREFIX = 'account:';

export const accountMemberId = (accountId: string): string => `${PREFIX}${accountId}`;

/** The account id of a membership-store member id, or null for a profile. */
export function accountOfMember(memberId: string): string | null {
  return memberId.startsWith(PREFIX) ? memberId.slice(PREFIX.length) : null;
}

/** The decisions of every account segment over the account at `now` (each carrying the next instant to schedule). */
export async function accountDecisions(
  d: { accounts: AccountStore },
  accountId: string,
  trigger: { kind: 'event' | 'tick'; at: number },
  now: number,
): Promise<Decision[]> {
  const contributions = await d.accounts.contributions(accountId);
  const members = accountMemberships(accountId, contributions, now);
  const next = nextAccountInstant(contributions, now);
  return ACCOUNT_SEGMENTS.map((s) => ({
    segment: s.id,
    definitionVersion: s.version,
    member: members.has(s.id),
    reason: trigger.kind === 'tick' ? 'time_elapsed' : members.has(s.id) ? 'rule_matched' : 'rule_unmatched',
    occurredAt: trigger.at,
    nextChangeAt: next,
    traits: {},
  }));
}

/**
 * The accounts a chunk's changes name (issue 15: one evaluation per account per chunk, not per change). Each is
 * evaluated once after the chunk's profile evaluations, at its latest change (by occurred_at, then offset), with that
 * change's trigger; `messages` are the chunk indexes of the changes that named it (their outcome if it fails).
 */
export class ChunkAccounts {
  private readonly byId = new Map<string, { at: number; index: number; triggerId: string | null; messages: number[] }>();

  note(accountId: string, at: number, triggerId: string | null, index: number): void {
    const a = this.byId.get(accountId);
    if (a === undefined) {
      this.byId.set(accountId, { at, index, triggerId, messages: [index] });
      return;
    }
    a.messages.push(index);
    if (at > a.at || (at === a.at && index > a.index)) Object.assign(a, { at, index, triggerId });
  }

  get size(): number {
    return this.byId.size;
  }

  entries(): { accountId: string; at: number; triggerId: string | null; messages: readonly number[] }[] {
    return [...this.byId].map(([accountId, a]) => ({ accountId, at: a.at, triggerId: a.triggerId, messages: a.messages }));
  }
}
