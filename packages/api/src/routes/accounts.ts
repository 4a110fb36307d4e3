/**
 * `GET /v1/accounts/:id` (scope read): a B2B account profile — the sum of its contacts' snapshots
 * (packages/profile/src/account.ts, store/accounts.ts), the same JSON as `profile-stream account <id> --json`.
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { AccountStore, accountJson } from '@profile-stream/profile';
import { apiError } from '../problem.ts';

export interface AccountRoutesDeps {
  redis: Redis;
  prefix: string;
  now: () => number;
}

const problem = { description: 'a problem (see `code`)', content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } } };
const time = { type: ['string', 'null'], format: 'date-time' } as const;
const money = { type: 'object', additionalProperties: { type: 'integer' }, description: 'currency → minor units' } as const;

export const getAccountSchema = {
  summary: 'A B2B account profile: its contacts and what they add up to',
  tags: ['accounts'],
  params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 128 } } },
  response: {
    200: {
      type: 'object',
      properties: {
        account_id: { type: 'string' },
        name: { type: ['string', 'null'] },
        domain: { type: ['string', 'null'] },
        contacts: { type: 'array', items: { type: 'string' }, description: 'profile ids, the most recently active first (at most 100)' },
        contacts_count: { type: 'integer' },
        first_seen_at: time,
        revenue_minor: money,
        revenue_365d_minor: money,
        orders_count: { type: 'integer' },
        last_order_at: time,
        open_tickets: { type: 'integer' },
        open_urgent_tickets: { type: 'integer' },
        worst_csat: { type: ['integer', 'null'] },
        last_activity_at: time,
      },
    },
    ...Object.fromEntries([400, 401, 403, 404, 429, 503].map((s) => [s, problem])),
  },
} as const;

export function registerAccountRoutes(app: FastifyInstance, d: AccountRoutesDeps): void {
  const store = new AccountStore(d.redis, d.prefix);
  app.get<{ Params: { id: string } }>('/v1/accounts/:id', { schema: getAccountSchema, config: { scope: 'read' } }, async (req) => {
    const view = await store.view(req.params.id, d.now());
    if (view === null) throw apiError('not_found', `no account ${req.params.id}`);
    return accountJson(view);
  });
}
