// Input for the identity convergence soak (`bench identity`): customers whose identifiers link only ACROSS topics.
// Clickstream links a customer's two devices to their user id, purchases link the user id to the e-mail, support
// tickets link the e-mail to the phone; every topic also carries events with one identifier alone. So each topic on
// its own sees a customer in pieces, every piece starts as a profile of its own, and only the three stitchers
// together, in whatever order they run, can make one customer of them: many merges, racing across processes.
// Events are shuffled (seeded) and a fraction is delivered twice (the same event id again, later).
// Records carry no key: the producer keys them as upstream apps do (contracts' eventKey).
import { clickEvent } from '@profile-stream/contracts/testing';
import { createRng } from './prng.ts';
import type { ValidRecord } from './types.ts';

export interface IdentitySoakOptions {
  seed: number;
  customers: number;
  /** Fraction of events delivered a second time (default 0.05). */
  redeliveryRate?: number;
  /** Events fall in the 30 days before this instant (epoch ms). */
  now: number;
}

export interface IdentitySoak {
  records: ValidRecord[];
  /** Distinct events (the records without redeliveries). */
  events: number;
  redelivered: number;
}

const DAY = 86_400_000;

export function identitySoak(o: IdentitySoakOptions): IdentitySoak {
  const rng = createRng(o.seed, 0x1d5eed);
  const events: ValidRecord[] = [];
  let n = 0;
  const header = (ids: { anonymous_id?: string; user_id?: string; email?: string; phone?: string }) => ({
    event_id: `soak-${o.seed}-${n++}`,
    occurred_at: o.now - Math.floor(rng.next() * 30 * DAY),
    anonymous_id: ids.anonymous_id ?? null,
    user_id: ids.user_id ?? null,
    email: ids.email ?? null,
    phone: ids.phone ?? null,
    account: null,
  });
  const click = (ids: Parameters<typeof header>[0]): ValidRecord => ({
    topic: 'clickstream',
    key: null,
    value: clickEvent({ ...header(ids), type: ids.user_id ? 'login' : 'page_view' }),
  });
  const purchase = (ids: Parameters<typeof header>[0], c: number): ValidRecord => ({
    topic: 'purchases',
    key: null,
    value: {
      ...header(ids),
      order_id: `so-${o.seed}-${c}-${n}`,
      status: 'completed',
      channel: 'web',
      currency: 'GBP',
      total_minor: 100 + rng.int(0, 9900),
      items: [],
    },
  });
  const ticket = (ids: Parameters<typeof header>[0], c: number): ValidRecord => ({
    topic: 'support-tickets',
    key: null,
    value: {
      ...header(ids),
      ticket_id: `st-${o.seed}-${c}`,
      status: ids.email ? 'updated' : 'opened',
      channel: 'email',
      priority: 'normal',
      category: null,
      subject: null,
      satisfaction: null,
    },
  });
  for (let c = 0; c < o.customers; c++) {
    const id = `${o.seed}-${c}`;
    const d1 = `sa-${id}-1`;
    const d2 = `sa-${id}-2`;
    const user = `su-${id}`;
    const email = `s-${id}@soak.example`;
    const phone = `+4475${String((o.seed * 7919 + c) % 100_000_000).padStart(8, '0')}`;
    events.push(
      click({ anonymous_id: d1 }),
      click({ anonymous_id: d1 }),
      click({ anonymous_id: d1, user_id: user }),
      click({ anonymous_id: d2 }),
      click({ anonymous_id: d2, user_id: user }),
      purchase({ email }, c),
      purchase({ user_id: user, email }, c),
      ticket({ phone }, c),
      ticket({ email, phone }, c),
    );
  }
  for (let i = events.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [events[i], events[j]] = [events[j]!, events[i]!];
  }
  // A redelivery lands somewhere after its first delivery.
  const later: ValidRecord[][] = events.map(() => []);
  let redelivered = 0;
  events.forEach((e, i) => {
    if (!rng.chance(o.redeliveryRate ?? 0.05)) return;
    later[rng.int(i, events.length - 1)]!.push(e);
    redelivered++;
  });
  const records = events.flatMap((e, i) => [e, ...later[i]!]);
  return { records, events: events.length, redelivered };
}
