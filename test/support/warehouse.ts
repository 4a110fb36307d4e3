/** Helpers for warehouse tests: a free port, table counts, and each daily aggregate paired with the same from raw rows. */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { ClickHouseClient } from '@clickhouse/client';
import { createProducer, type KafkaClient } from '@profile-stream/consumer-kit';
import { WAREHOUSE_TOPICS } from '@profile-stream/warehouse';
import { type TestEnv, waitUntil } from './index.ts';

export const WAREHOUSE_INPUTS = WAREHOUSE_TOPICS;

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/** The exit code of a process that is expected to stop by itself. */
export async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

const TABLES = ['clickstream_events', 'purchases', 'purchase_items', 'support_tickets', 'segment_membership_changes', 'identity_merges', 'profiles'] as const;

export async function tableCounts(ch: ClickHouseClient): Promise<Record<(typeof TABLES)[number], number>> {
  const rs = await ch.query({ query: TABLES.map((t) => `SELECT '${t}' AS t, count() AS n FROM ${t}`).join(' UNION ALL '), format: 'JSONEachRow' });
  return Object.fromEntries((await rs.json<{ t: string; n: string }>()).map((r) => [r.t, Number(r.n)])) as Record<(typeof TABLES)[number], number>;
}

/** [aggregate table query, the same computed from raw rows]: equal results prove the materialized views. */
export const rawVsAggregates: Record<string, [string, string]> = {
  daily_revenue: [
    'SELECT day, channel, category, currency, sum(gross_minor) AS g, sum(refunded_minor) AS r, sum(net_minor) AS n, sum(units) AS u FROM daily_revenue GROUP BY ALL ORDER BY ALL',
    `SELECT toDate(occurred_at) AS day, channel, category, currency, sumIf(quantity * unit_price_minor, status = 'completed') AS g,
            sumIf(quantity * unit_price_minor, status != 'completed') AS r, sum(signed_amount_minor) AS n,
            sum(if(status = 'completed', toInt64(quantity), -toInt64(quantity))) AS u FROM purchase_items GROUP BY ALL ORDER BY ALL`,
  ],
  daily_orders: [
    'SELECT day, channel, currency, sum(completed) AS c, sum(refunded) AS r, sum(cancelled) AS x, sum(gross_minor) AS g, sum(net_minor) AS n FROM daily_orders GROUP BY ALL ORDER BY ALL',
    `SELECT toDate(occurred_at) AS day, channel, currency, countIf(status = 'completed') AS c, countIf(status = 'refunded') AS r, countIf(status = 'cancelled') AS x,
            sumIf(total_minor, status = 'completed') AS g, sum(signed_total_minor) AS n FROM purchases GROUP BY ALL ORDER BY ALL`,
  ],
  daily_active_customers: [
    'SELECT day, device_type, uniqMerge(customers) AS c, sum(events) AS e FROM daily_active_customers GROUP BY ALL ORDER BY ALL',
    'SELECT toDate(occurred_at) AS day, device_type, uniq(customer_key) AS c, count() AS e FROM clickstream_events GROUP BY ALL ORDER BY ALL',
  ],
  daily_tickets: [
    'SELECT day, channel, priority, sum(ticket_events) AS t, sum(opened) AS o, sum(resolved) AS r, sum(csat_sum) AS s, sum(csat_count) AS k FROM daily_tickets GROUP BY ALL ORDER BY ALL',
    `SELECT toDate(occurred_at) AS day, channel, priority, count() AS t, countIf(status IN ('opened', 'reopened')) AS o, countIf(status IN ('resolved', 'closed')) AS r,
            sum(ifNull(satisfaction, 0)) AS s, countIf(satisfaction IS NOT NULL) AS k FROM support_tickets GROUP BY ALL ORDER BY ALL`,
  ],
  daily_segment_sizes: [
    'SELECT day, segment_id, sum(entered) AS e, sum(exited) AS x, sum(net) AS n FROM daily_segment_sizes GROUP BY ALL ORDER BY ALL',
    `SELECT toDate(occurred_at) AS day, segment_id, countIf(change = 'entered') AS e, countIf(change = 'exited') AS x,
            toInt64(countIf(change = 'entered')) - toInt64(countIf(change = 'exited')) AS n FROM segment_membership_changes GROUP BY ALL ORDER BY ALL`,
  ],
};

/**
 * Messages in `topic` without Confluent framing, read off the log itself: the producer may write a batch twice after
 * a broker that has just started fails it (a new producer id resends; at least once), so the generator's count of
 * malformed records is a lower bound of what the log holds.
 */
export async function unframedIn(kafka: KafkaClient, prefix: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  await admin.disconnect();
  const reached = new Map<number, bigint>();
  let unframed = 0;
  const consumer = kafka.consumer({ groupId: `${prefix}count-${topic}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const v = message.value;
      if (!v || v.length < 5 || v[0] !== 0) unframed++;
      reached.set(partition, BigInt(message.offset) + 1n);
    },
  });
  try {
    await waitUntil(`reading ${topic} to its end`, () => [...ends].every(([p, high]) => high === 0n || (reached.get(p) ?? 0n) >= high), 60_000);
  } finally {
    await consumer.disconnect();
  }
  return unframed;
}

/**
 * What an erase looks like to the warehouse: a snapshot of the profile on profile-changes (so its profiles row exists),
 * then its profile-erased record with the identifiers' hashes.
 */
export async function publishErasure(env: TestEnv, o: { profileId: string; identity: object; identifierHashes: string[] }): Promise<void> {
  const producer = createProducer(env.kafka);
  await producer.connect();
  const changes = env.topics['profile-changes'].topic;
  const erased = env.topics['profile-erased'].topic;
  const now = Date.now();
  await producer.send({
    topic: changes,
    acks: -1,
    messages: [
      {
        key: o.profileId,
        value: await env.registry.encode(changes, {
          event_id: `${o.profileId}:v1`,
          profile_id: o.profileId,
          profile_version: 1,
          cause: 'event',
          trigger_event_id: null,
          source_topic: null,
          changed_sections: [],
          occurred_at: now,
          emitted_at: now,
          profile_json: JSON.stringify({ profile_id: o.profileId, identity: o.identity }),
        }),
      },
    ],
  });
  await producer.send({
    topic: erased,
    acks: -1,
    messages: [
      {
        key: o.profileId,
        value: await env.registry.encode(erased, {
          event_id: `erase-${o.profileId}`,
          profile_id: o.profileId,
          merged_ids: [],
          identifier_hashes: o.identifierHashes,
          requested_by: 'test',
          reason: 'gdpr_request',
          occurred_at: now,
          emitted_at: now,
        }),
      },
    ],
  });
  await producer.disconnect();
}
