/**
 * What an order is, in ClickHouse: one definition for every query over `purchases` that counts orders (the RFM
 * breakpoints, rfm.ts; predict's fit, `profile-stream predict`), cleaned as the profile fold cleans them:
 *   - events de-duplicated by event_id (a re-delivered or re-imported event counts once);
 *   - an order counts when it has a completed event and no cancelled one (`orders_count`);
 *   - its time is its earliest completed event (`last_purchase_at` is the latest counted order's);
 *   - its value is its completed totals − its refunded totals (a counted order has no cancelled event).
 * A customer is a `customer_key` (the purchase's key).
 */
import { ProfileStreamError } from '@profile-stream/consumer-kit';

/**
 * Two CTEs (no leading WITH): `events` (customer_key, order_id, status, currency, total_minor, signed_total_minor, at:
 * one row per event_id) and `orders` (customer_key, order_id, counted, completed_at, net, cur).
 */
export function countedOrdersCtes(database: string): string {
  return `events AS (
    SELECT customer_key, order_id, status, currency, total_minor, signed_total_minor, toUnixTimestamp64Milli(occurred_at) AS at
    FROM ${database}.purchases LIMIT 1 BY event_id),
  orders AS (
    SELECT customer_key, order_id,
           countIf(status = 'completed') > 0 AND countIf(status = 'cancelled') = 0 AS counted,
           minIf(at, status = 'completed') AS completed_at,
           sumIf(total_minor, status = 'completed') - sumIf(total_minor, status = 'refunded') AS net,
           anyIf(currency, status = 'completed') AS cur
    FROM events GROUP BY customer_key, order_id)`;
}

/** Each customer's counted orders completed up to `asOf` (epoch ms, inlined: the SQL port takes no parameters): (completed_at, net, cur) tuples. */
export function countedOrdersSql(database: string, asOf: number): string {
  if (!Number.isSafeInteger(asOf)) throw new ProfileStreamError('invalid_options', `as of: expected epoch milliseconds (got ${asOf})`);
  return `WITH
  ${countedOrdersCtes(database)}
SELECT customer_key, groupArray((completed_at, net, cur)) AS orders
FROM orders WHERE counted AND completed_at <= ${asOf}
GROUP BY customer_key`;
}
