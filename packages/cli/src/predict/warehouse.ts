/**
 * Every customer's counted orders from the warehouse, in one query over `purchases`, cleaned as the profile fold and
 * the RFM query clean them: events de-duplicated by event_id; an order counts when it has a completed event and no
 * cancelled one; its time is its earliest completed event; its value is the completed total minus refunds. A customer
 * is a `customer_key` (the purchase's key). packages/predict/src/history.ts turns the orders into the model's inputs.
 */
import { errorMessage, ProfileStreamError } from '@profile-stream/consumer-kit';
import type { OrderPoint } from '@profile-stream/predict';
import type { AnalystClient } from '@profile-stream/warehouse';

export function ordersSql(database: string, asOf: number): string {
  if (!Number.isSafeInteger(asOf)) throw new ProfileStreamError('invalid_options', `as of: expected epoch milliseconds (got ${asOf})`);
  return `WITH
  events AS (
    SELECT customer_key, order_id, status, currency, total_minor, toUnixTimestamp64Milli(occurred_at) AS at
    FROM ${database}.purchases LIMIT 1 BY event_id),
  orders AS (
    SELECT customer_key, order_id,
           countIf(status = 'completed') > 0 AND countIf(status = 'cancelled') = 0 AS counted,
           minIf(at, status = 'completed') AS completed_at,
           sumIf(total_minor, status = 'completed') - sumIf(total_minor, status = 'refunded') AS net,
           anyIf(currency, status = 'completed') AS cur
    FROM events GROUP BY customer_key, order_id)
SELECT customer_key, groupArray((completed_at, net, cur)) AS orders
FROM orders WHERE counted AND completed_at <= ${asOf}
GROUP BY customer_key`;
}

interface Row {
  customer_key: string;
  orders: [string | number, string | number, string][];
}

/** customer_key → counted orders up to `asOf`. */
export async function customerOrders(client: AnalystClient['client'], database: string, asOf: number): Promise<Map<string, OrderPoint[]>> {
  let rows: Row[];
  try {
    rows = await (await client.query({ query: ordersSql(database, asOf), format: 'JSONEachRow' })).json<Row>();
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
