-- Raw typed input events, one row per unique event_id (the sink skips ids already stored; ReplacingMergeTree on
-- the sort key, which ends in event_id, is the second line of defence). Identifiers are normalised as the
-- stitchers do (junk values become NULL); `email` and `phone` hold HMAC-SHA256 hex of "email:<value>" /
-- "phone:<E.164>" keyed with PII_HASH_KEY unless WAREHOUSE_PII=plain. `customer_key` is the highest-priority
-- identifier as stored (user_id > email > phone > anonymous_id).
CREATE TABLE IF NOT EXISTS {{db}}.clickstream_events
(
    event_id            String,
    occurred_at         DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    event_type          LowCardinality(String),
    customer_key        String CODEC(ZSTD(1)),
    anonymous_id        Nullable(String) CODEC(ZSTD(1)),
    user_id             Nullable(String) CODEC(ZSTD(1)),
    email               Nullable(String) CODEC(ZSTD(1)),
    phone               Nullable(String) CODEC(ZSTD(1)),
    page_url            Nullable(String) CODEC(ZSTD(3)),
    page_referrer       Nullable(String) CODEC(ZSTD(3)),
    page_title          Nullable(String) CODEC(ZSTD(3)),
    utm_source          LowCardinality(Nullable(String)),
    utm_medium          LowCardinality(Nullable(String)),
    utm_campaign        LowCardinality(Nullable(String)),
    device_type         LowCardinality(String),
    device_os           LowCardinality(Nullable(String)),
    device_browser      LowCardinality(Nullable(String)),
    country             LowCardinality(Nullable(String)),
    locale              LowCardinality(Nullable(String)),
    product_sku         Nullable(String),
    product_category    LowCardinality(Nullable(String)),
    product_price_minor Nullable(Int64),
    product_currency    LowCardinality(Nullable(String)),
    search_query        Nullable(String) CODEC(ZSTD(3)),
    consent_purpose     LowCardinality(Nullable(String)),
    consent_granted     Nullable(Bool),
    ingested_at         DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1)),
    INDEX idx_customer customer_key TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (toDate(occurred_at), event_type, event_id);

CREATE TABLE IF NOT EXISTS {{db}}.purchases
(
    event_id            String,
    occurred_at         DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    order_id            String,
    status              LowCardinality(String),
    channel             LowCardinality(String),
    currency            LowCardinality(String),
    total_minor         Int64,
    -- + total for completed, − total for refunded and cancelled (each carries the amount it takes back)
    signed_total_minor  Int64,
    items_count         UInt32,
    customer_key        String CODEC(ZSTD(1)),
    anonymous_id        Nullable(String) CODEC(ZSTD(1)),
    user_id             Nullable(String) CODEC(ZSTD(1)),
    email               Nullable(String) CODEC(ZSTD(1)),
    phone               Nullable(String) CODEC(ZSTD(1)),
    ingested_at         DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1)),
    INDEX idx_customer customer_key TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (toDate(occurred_at), channel, event_id);

CREATE TABLE IF NOT EXISTS {{db}}.purchase_items
(
    event_id            String,
    line                UInt16,
    occurred_at         DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    order_id            String,
    status              LowCardinality(String),
    channel             LowCardinality(String),
    currency            LowCardinality(String),
    sku                 String,
    category            LowCardinality(String),
    quantity            Int32,
    unit_price_minor    Int64,
    -- ± quantity × unit price, signed like purchases.signed_total_minor
    signed_amount_minor Int64,
    customer_key        String CODEC(ZSTD(1)),
    ingested_at         DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (toDate(occurred_at), category, event_id, line);

CREATE TABLE IF NOT EXISTS {{db}}.support_tickets
(
    event_id            String,
    occurred_at         DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    ticket_id           String,
    status              LowCardinality(String),
    channel             LowCardinality(String),
    priority            LowCardinality(String),
    category            LowCardinality(Nullable(String)),
    subject             Nullable(String) CODEC(ZSTD(3)),
    satisfaction        Nullable(UInt8),
    customer_key        String CODEC(ZSTD(1)),
    anonymous_id        Nullable(String) CODEC(ZSTD(1)),
    user_id             Nullable(String) CODEC(ZSTD(1)),
    email               Nullable(String) CODEC(ZSTD(1)),
    phone               Nullable(String) CODEC(ZSTD(1)),
    ingested_at         DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1)),
    INDEX idx_customer customer_key TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (toDate(occurred_at), channel, event_id);
