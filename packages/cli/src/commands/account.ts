/** `account <id>`: a B2B account profile — its contacts and what they add up to (packages/profile/src/account.ts). */
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { AccountStore, accountJson } from '@profile-stream/profile';
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

function render(a: Record<string, unknown>): string {
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
      process.stdout.write(opts.json ? `${JSON.stringify(view, null, 2)}\n` : render(view));
    });
}
