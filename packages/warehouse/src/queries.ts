/**
 * The analyst queries (documented in the README, each tested against generated data; stale_contact_share_by_month
 * against computed snapshots in contact-freshness.test.ts). Unqualified table names:
 * the warehouse's database is the default one in every mode. `{customer}` is a customer key (a user id, or the
 * stored e-mail/phone/anonymous id of a customer without one).
 */
import { sqlString } from './sql.ts';

export interface AnalystQuery {
  id: string;
  title: string;
  sql: string;
}

export const ANALYST_QUERIES: readonly AnalystQuery[] = [
  {
    id: 'revenue_by_channel_category_day',
    title: 'Revenue by channel and product category per day (minor units, per currency)',
    sql: `SELECT day, channel, category, currency, sum(gross_minor) AS gross_minor, sum(refunded_minor) AS refunded_minor,
       sum(net_minor) AS net_minor, sum(units) AS units
FROM daily_revenue GROUP BY day, channel, category, currency ORDER BY day, channel, category, currency`,
  },
  {
    id: 'net_revenue_by_currency_month',
    title: 'Orders and net revenue by currency per month',
    sql: `SELECT toStartOfMonth(day) AS month, currency, sum(completed) AS orders, sum(cancelled) AS cancellations,
       sum(refunded) AS refunds, sum(net_minor) AS net_minor
FROM daily_orders GROUP BY month, currency ORDER BY month, currency`,
  },
  {
    id: 'active_customers_by_device',
    title: 'Active customers by device type per day',
    sql: `SELECT day, device_type, uniqMerge(customers) AS active_customers, sum(events) AS events
FROM daily_active_customers GROUP BY day, device_type ORDER BY day, device_type`,
  },
  {
    id: 'support_load_and_csat',
    title: 'Support load and CSAT by channel and priority per day',
    sql: `SELECT day, channel, priority, sum(ticket_events) AS ticket_events, sum(opened) AS opened, sum(resolved) AS resolved,
       sum(csat_count) AS rated, round(sum(csat_sum) / nullIf(sum(csat_count), 0), 2) AS avg_csat
FROM daily_tickets GROUP BY day, channel, priority ORDER BY day, channel, priority`,
  },
  {
    id: 'segment_growth',
    title: 'Segment growth: entered, exited and size at the end of each day',
    sql: `SELECT day, segment_id, entered, exited,
       sum(net) OVER (PARTITION BY segment_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS size
FROM (SELECT day, segment_id, sum(entered) AS entered, sum(exited) AS exited, sum(net) AS net
      FROM daily_segment_sizes GROUP BY day, segment_id)
ORDER BY segment_id, day`,
  },
  {
    id: 'rfm_distribution',
    title: 'RFM distribution: customers per recency and frequency score',
    sql: `SELECT r_score, f_score, count() AS customers, round(avg(monetary_minor)) AS avg_monetary_minor
FROM rfm GROUP BY r_score, f_score ORDER BY r_score DESC, f_score DESC`,
  },
  {
    id: 'customer_history',
    title: "One customer's history: clicks, purchases and tickets in time order",
    sql: `SELECT * FROM (
    SELECT occurred_at, 'click' AS source, event_type AS what, coalesce(page_url, product_sku, search_query, '') AS detail
    FROM clickstream_events WHERE customer_key = {customer}
    UNION ALL
    SELECT occurred_at, 'purchase', status, concat(order_id, ' ', toString(total_minor), ' ', currency)
    FROM purchases WHERE customer_key = {customer}
    UNION ALL
    SELECT occurred_at, 'ticket', status, concat(ticket_id, ' ', channel, ' ', priority)
    FROM support_tickets WHERE customer_key = {customer})
ORDER BY occurred_at, source, what`,
  },
  {
    id: 'conversion_funnel',
    title: 'Funnel: customers reaching product view → add to cart → checkout within a day',
    sql: `SELECT level, count() AS customers
FROM (SELECT customer_key, windowFunnel(86400)(toDateTime(occurred_at), event_type = 'product_view',
             event_type = 'add_to_cart', event_type = 'checkout_started') AS level
      FROM clickstream_events GROUP BY customer_key)
GROUP BY level ORDER BY level`,
  },
  {
    id: 'top_categories_viewed',
    title: 'Most viewed product categories',
    sql: `SELECT product_category AS category, count() AS views, uniqExact(customer_key) AS customers
FROM clickstream_events WHERE event_type = 'product_view'
GROUP BY category ORDER BY views DESC, category LIMIT 10`,
  },
  {
    id: 'refund_rate_by_channel',
    title: 'Refund and cancellation rate by sales channel',
    sql: `SELECT channel, sum(completed) AS orders, sum(refunded) AS refunds, sum(cancelled) AS cancellations,
       round((sum(refunded) + sum(cancelled)) / nullIf(sum(completed), 0), 4) AS refund_or_cancel_rate
FROM daily_orders GROUP BY channel ORDER BY channel`,
  },
  {
    id: 'stale_contact_share_by_month',
    title: 'Share of profiles whose contact data is stale (no e-mail or phone confirmed for 365 days) at the end of each month',
    sql: `SELECT month, with_contact, stale, unknown, stale_share
FROM contact_freshness_by_month ORDER BY month`,
  },
  {
    id: 'loyalty_points_by_tier_day',
    title: 'Loyalty points earned, redeemed and expired per day and tier',
    sql: `SELECT day, tier, sum(earned) AS earned, sum(redeemed) AS redeemed, sum(expired) AS expired,
       sum(earn_events) AS earn_events, sum(redeem_events) AS redeem_events
FROM daily_loyalty_points GROUP BY day, tier ORDER BY day, tier`,
  },
  {
    id: 'points_liability_by_tier',
    title: "Points liability by tier: the points members hold (earned − redeemed − expired), by each member's current tier",
    // Each member's tier and status are the latest (occurred_at, event_id) event naming them, as in the profile;
    // members who left are out; a negative balance (a redemption ahead of its earn) counts as it is, and is counted.
    sql: `SELECT tier, count() AS members, sum(balance) AS points_liability, countIf(balance < 0) AS overdrawn_members
FROM (SELECT member_id, sum(signed_points) AS balance,
             ifNull(argMaxIf(tier, (occurred_at, event_id), type IN ('enrolled', 'tier_changed') AND tier IS NOT NULL), '(none)') AS tier,
             argMaxIf(type, (occurred_at, event_id), type IN ('enrolled', 'left')) AS status
      FROM loyalty_events GROUP BY member_id)
WHERE status != 'left'
GROUP BY tier ORDER BY tier`,
  },
  {
    id: 'revenue_by_account',
    title: 'Revenue by B2B account: net revenue, orders and contacts per account and currency (the account each order names)',
    sql: `SELECT account_id, argMax(account_name, occurred_at) AS account_name, currency, sum(signed_total_minor) AS net_minor,
       uniqExactIf(order_id, status = 'completed') AS orders, uniqExact(customer_key) AS contacts
FROM purchases FINAL WHERE account_id IS NOT NULL
GROUP BY account_id, currency ORDER BY net_minor DESC, account_id, currency`,
  },
];

/** The query's SQL with `{customer}` filled in as a quoted literal. */
export function analystSql(q: AnalystQuery, params: { customer?: string } = {}): string {
  return q.sql.replaceAll('{customer}', sqlString(params.customer ?? ''));
}
