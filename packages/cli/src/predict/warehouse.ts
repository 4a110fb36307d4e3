/**
 * Every customer's counted orders from the warehouse, in one query over `purchases` (countedOrdersSql: what an order
 * is, packages/warehouse/src/orders.ts, the same definition as the RFM query's and the profile fold's). A customer is
 * a `customer_key` (the purchase's key). packages/predict/src/history.ts turns the orders into the model's inputs.
 */
import { errorMessage, ProfileStreamError } from '@profile-stream/consumer-kit';
import type { OrderPoint } from '@profile-stream/predict';
import { type AnalystClient, countedOrdersSql } from '@profile-stream/warehouse';

interface Row {
  customer_key: string;
  orders: [string | number, string | number, string][];
}

/** customer_key → counted orders up to `asOf`. */
export async function customerOrders(client: AnalystClient['client'], database: string, asOf: number): Promise<Map<string, OrderPoint[]>> {
  let rows: Row[];
  try {
    rows = await (await client.query({ query: countedOrdersSql(database, asOf), format: 'JSONEachRow' })).json<Row>();
  } catch (err) {
    throw new ProfileStreamError('clickhouse_unavailable', `the predict orders query failed: ${errorMessage(err)}`, { cause: err });
  }
  const out = new Map<string, OrderPoint[]>();
  for (const r of rows)
    out.set(
      r.customer_key,
      r.orders.map(([at, net, currency]) => ({ at: Number(at), net_minor: Number(net), currency })),
    );
  return out;
}

/**
 * The population's engagement counts per channel and per UTC hour of the week up to `asOf`, events de-duplicated by
 * event_id, mapped as packages/profile/src/engagement.ts maps them in the fold (e-mail opens and clicks → email, other
 * clickstream events but consent_updated → web, completed purchases → their channel; hour 0 = Monday 00h).
 */
export function engagementSql(database: string, asOf: number): string {
  if (!Number.isSafeInteger(asOf)) throw new ProfileStreamError('invalid_options', `as of: expected epoch milliseconds (got ${asOf})`);
  const how = '(toDayOfWeek(occurred_at) - 1) * 24 + toHour(occurred_at)';
  return `SELECT channel, how, count() AS n FROM (
  SELECT if(event_type IN ('email_open', 'email_click'), 'email', 'web') AS channel, ${how} AS how
  FROM (SELECT * FROM ${database}.clickstream_events WHERE event_type != 'consent_updated' AND toUnixTimestamp64Milli(occurred_at) <= ${asOf} LIMIT 1 BY event_id)
  UNION ALL
  SELECT toString(channel) AS channel, ${how} AS how
  FROM (SELECT * FROM ${database}.purchases WHERE status = 'completed' AND toUnixTimestamp64Milli(occurred_at) <= ${asOf} LIMIT 1 BY event_id))
GROUP BY channel, how`;
}

/** Engagement events per channel and per hour of the week (keys "0"–"167"), the population prior's counts. */
export async function engagementCounts(
  client: AnalystClient['client'],
  database: string,
  asOf: number,
): Promise<{ channels: Record<string, number>; hours: Record<string, number> }> {
  let rows: { channel: string; how: string | number; n: string | number }[];
  try {
    rows = await (await client.query({ query: engagementSql(database, asOf), format: 'JSONEachRow' })).json();
  } catch (err) {
    throw new ProfileStreamError('clickhouse_unavailable', `the predict engagement query failed: ${errorMessage(err)}`, { cause: err });
  }
  const channels: Record<string, number> = {};
  const hours: Record<string, number> = {};
  for (const r of rows) {
    channels[r.channel] = (channels[r.channel] ?? 0) + Number(r.n);
    const h = String(Number(r.how));
    hours[h] = (hours[h] ?? 0) + Number(r.n);
  }
  return { channels, hours };
}
