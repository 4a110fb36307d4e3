-- Daily aggregates, filled by materialized views on every insert into the raw tables. The sink inserts each
-- event_id once (ids already stored are skipped before the insert), so a replay never doubles an aggregate.
-- Days are UTC. Query the SummingMergeTree tables with sum(...) GROUP BY and the uniq states with uniqMerge.

-- Revenue per day, channel, product category and currency, from order lines (minor units, no conversion).
CREATE TABLE IF NOT EXISTS {{db}}.daily_revenue
(
    day                 Date,
    channel             LowCardinality(String),
    category            LowCardinality(String),
    currency            LowCardinality(String),
    gross_minor         Int64,
    refunded_minor      Int64,
    net_minor           Int64,
    units               Int64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, channel, category, currency);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.daily_revenue_mv TO {{db}}.daily_revenue AS
SELECT
    toDate(occurred_at) AS day, channel, category, currency,
    sumIf(quantity * unit_price_minor, status = 'completed') AS gross_minor,
    sumIf(quantity * unit_price_minor, status != 'completed') AS refunded_minor,
    sum(signed_amount_minor) AS net_minor,
    sum(if(status = 'completed', toInt64(quantity), -toInt64(quantity))) AS units
FROM {{db}}.purchase_items
GROUP BY day, channel, category, currency;

-- Orders per day, channel and currency, from order totals.
CREATE TABLE IF NOT EXISTS {{db}}.daily_orders
(
    day                 Date,
    channel             LowCardinality(String),
    currency            LowCardinality(String),
    completed           UInt64,
    refunded            UInt64,
    cancelled           UInt64,
    gross_minor         Int64,
    net_minor           Int64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, channel, currency);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.daily_orders_mv TO {{db}}.daily_orders AS
SELECT
    toDate(occurred_at) AS day, channel, currency,
    countIf(status = 'completed') AS completed,
    countIf(status = 'refunded') AS refunded,
    countIf(status = 'cancelled') AS cancelled,
    sumIf(total_minor, status = 'completed') AS gross_minor,
    sum(signed_total_minor) AS net_minor
FROM {{db}}.purchases
GROUP BY day, channel, currency;

-- Active customers (distinct customer_key) per day and device type; events without a device count as 'unknown'.
CREATE TABLE IF NOT EXISTS {{db}}.daily_active_customers
(
    day                 Date,
    device_type         LowCardinality(String),
    customers           AggregateFunction(uniq, String),
    events              SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, device_type);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.daily_active_customers_mv TO {{db}}.daily_active_customers AS
SELECT toDate(occurred_at) AS day, device_type, uniqState(customer_key) AS customers, toUInt64(count()) AS events
FROM {{db}}.clickstream_events
GROUP BY day, device_type;

-- Support load and CSAT per day, channel and priority (average CSAT = csat_sum / csat_count).
CREATE TABLE IF NOT EXISTS {{db}}.daily_tickets
(
    day                 Date,
    channel             LowCardinality(String),
    priority            LowCardinality(String),
    ticket_events       UInt64,
    opened              UInt64,
    resolved            UInt64,
    csat_sum            UInt64,
    csat_count          UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, channel, priority);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.daily_tickets_mv TO {{db}}.daily_tickets AS
SELECT
    toDate(occurred_at) AS day, channel, priority,
    count() AS ticket_events,
    countIf(status IN ('opened', 'reopened')) AS opened,
    countIf(status IN ('resolved', 'closed')) AS resolved,
    toUInt64(sum(ifNull(satisfaction, 0))) AS csat_sum,
    countIf(satisfaction IS NOT NULL) AS csat_count
FROM {{db}}.support_tickets
GROUP BY day, channel, priority;

-- Segment movements per day: size at the end of day D = Σ net over days ≤ D.
CREATE TABLE IF NOT EXISTS {{db}}.daily_segment_sizes
(
    day                 Date,
    segment_id          LowCardinality(String),
    entered             Int64,
    exited              Int64,
    net                 Int64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, segment_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.daily_segment_sizes_mv TO {{db}}.daily_segment_sizes AS
SELECT
    toDate(occurred_at) AS day, segment_id,
    countIf(change = 'entered') AS entered,
    countIf(change = 'exited') AS exited,
    toInt64(countIf(change = 'entered')) - toInt64(countIf(change = 'exited')) AS net
FROM {{db}}.segment_membership_changes
GROUP BY day, segment_id;
