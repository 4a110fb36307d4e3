-- Loyalty programme events (issue 15), one row per event of the loyalty topic, and the points earned, redeemed and
-- expired per day and tier. `signed_points` is + for points_earned, − for points_redeemed and points_expired, 0 for
-- the other types, so sum(signed_points) per member is its balance (see the README's "points liability by tier").
CREATE TABLE IF NOT EXISTS {{db}}.loyalty_events
(
    event_id            String,
    occurred_at         DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    member_id           String CODEC(ZSTD(1)),
    type                LowCardinality(String),
    points              Nullable(Int64),
    signed_points       Int64,
    -- the tier named by the event: the new tier (enrolled, tier_changed), else the member's tier when the producer sends it
    tier                LowCardinality(Nullable(String)),
    reason              Nullable(String) CODEC(ZSTD(3)),
    order_id            Nullable(String) CODEC(ZSTD(1)),
    expires_at          Nullable(DateTime64(3, 'UTC')),
    customer_key        String CODEC(ZSTD(1)),
    anonymous_id        Nullable(String) CODEC(ZSTD(1)),
    user_id             Nullable(String) CODEC(ZSTD(1)),
    email               Nullable(String) CODEC(ZSTD(1)),
    phone               Nullable(String) CODEC(ZSTD(1)),
    ingested_at         DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1)),
    INDEX idx_customer customer_key TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_member member_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (toDate(occurred_at), type, event_id);

-- Points per day (UTC) and tier; a points event without a tier counts under '(unknown)'. Query with sum(...) GROUP BY.
CREATE TABLE IF NOT EXISTS {{db}}.daily_loyalty_points
(
    day                 Date,
    tier                LowCardinality(String),
    earned              Int64,
    redeemed            Int64,
    expired             Int64,
    earn_events         UInt64,
    redeem_events       UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, tier);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.daily_loyalty_points_mv TO {{db}}.daily_loyalty_points AS
SELECT
    toDate(occurred_at) AS day, ifNull(tier, '(unknown)') AS tier,
    sumIf(ifNull(points, 0), type = 'points_earned') AS earned,
    sumIf(ifNull(points, 0), type = 'points_redeemed') AS redeemed,
    sumIf(ifNull(points, 0), type = 'points_expired') AS expired,
    countIf(type = 'points_earned') AS earn_events,
    countIf(type = 'points_redeemed') AS redeem_events
FROM {{db}}.loyalty_events
WHERE type IN ('points_earned', 'points_redeemed', 'points_expired')
GROUP BY day, tier;
