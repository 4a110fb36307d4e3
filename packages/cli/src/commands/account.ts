/** `account <id>`: a B2B account profile — its contacts and what they add up to (packages/profile/src/account.ts). */
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { AccountStore, accountJson, type AccountView } from '@profile-stream/profile';
import { cliContext } from '../context.ts';

/** The account profile as JSON, or undefined when no contact belongs to the account. */
export async function lookupAccount(accountId: string, o: { redisUrl: string; prefix: string; now: number }): Promise<Record<string, unknown> | undefined> {
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    const view = await new AccountStore(redis, o.prefix).view(accountId, o.now);
    return view === null ? undefined : accountJson(view);
  } finally {
    redis.disconnect();
  }
}

/** The account with the most contacts (then the most orders): the demo's company. */
export async function busiestAccount(o: { redisUrl: string; prefix: string; now: number }): Promise<Record<string, unknown> | undefined> {
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    const store = new AccountStore(redis, o.prefix);
    let best: AccountView | undefined;
    for (const id of await store.list()) {
      const v = await store.view(id, o.now);
      if (v && (!best || v.contacts_count > best.contacts_count || (v.contacts_count === best.contacts_count && v.orders_count > best.orders_count))) best = v;
    }
    return best && accountJson(best);
  } finally {
    redis.disconnect();
  }
}

export function renderAccount(a: Record<string, unknown>): string {
  const money = (m: unknown) =>
    Object.entries((m ?? {}) as Record<string, number>)
      .map(([cur, n]) => `${(n / 100).toFixed(2)} ${cur}`)
      .join(', ') || '-';
  const contacts = a.contacts as string[];
  return [
    `account ${String(a.account_id)}${a.name ? ` — ${String(a.name)}` : ''}${a.domain ? ` (${String(a.domain)})` : ''}`,
    `  contacts       ${String(a.contacts_count)}: ${contacts.join(', ')}`,
    `  revenue        ${money(a.revenue_minor)} (365 d: ${money(a.revenue_365d_minor)})`,
    `  orders         ${String(a.orders_count)}, last ${String(a.last_order_at ?? '-')}`,
    `  open tickets   ${String(a.open_tickets)} (urgent ${String(a.open_urgent_tickets)}), worst CSAT ${String(a.worst_csat ?? '-')}`,
    `  first seen     ${String(a.first_seen_at ?? '-')}, last activity ${String(a.last_activity_at ?? '-')}`,
    '',
  ].join('\n');
}

export function registerAccount(program: Command): void {
  program
    .command('account')
    .description('show a B2B account profile: its contacts, revenue per currency, orders, open tickets, worst CSAT')
    .argument('<id>', 'account id (as producers send it in `account.account_id`)')
    .option('--json', 'the account JSON (stable field names)')
    .action(async (id: string, opts: { json?: boolean }) => {
      const ctx = cliContext('account');
      const view = await lookupAccount(id, { redisUrl: ctx.conn.redis.url, prefix: ctx.redisPrefix, now: Date.now() });
      if (!view) {
        process.stderr.write(`no account ${id}\n`);
        process.exitCode = 4;
        return;
      }
      process.stdout.write(opts.json ? `${JSON.stringify(view, null, 2)}\n` : renderAccount(view));
    });
}
