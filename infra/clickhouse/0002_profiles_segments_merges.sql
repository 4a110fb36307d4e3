-- Profile snapshots (the latest version wins: query with FINAL or argMax), membership changes and the merge log.
CREATE TABLE IF NOT EXISTS {{db}}.profiles
(
    profile_id          String,
    version             UInt64,
    -- the profile-changes event id (<profile id>:v<version>); the sink skips ids already stored
    event_id            String,
    updated_at          DateTime64(3, 'UTC'),
    cause               LowCardinality(String),
    merged_ids          Array(String),
    user_ids            Array(String),
    emails              Array(String),
    phones              Array(String),
    anonymous_ids       Array(String),
    first_seen_at       Nullable(DateTime64(3, 'UTC')),
    last_seen_at        Nullable(DateTime64(3, 'UTC')),
    orders_count        UInt32,
    revenue_minor       Map(LowCardinality(String), Int64),
    first_purchase_at   Nullable(DateTime64(3, 'UTC')),
    last_purchase_at    Nullable(DateTime64(3, 'UTC')),
    tickets_count       UInt32,
    open_tickets        UInt32,
    last_csat           Nullable(UInt8),
    consent             Map(LowCardinality(String), Bool),
    ingested_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY profile_id;

CREATE TABLE IF NOT EXISTS {{db}}.segment_membership_changes
(
    event_id            String,
    profile_id          String,
    segment_id          LowCardinality(String),
    segment_version     UInt32,
    change              LowCardinality(String),
    reason              LowCardinality(String),
    membership_version  UInt64,
    occurred_at         DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    emitted_at          DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    trigger_event_id    Nullable(String),
    traits              Map(String, String),
    ingested_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (toDate(occurred_at), segment_id, event_id);

CREATE TABLE IF NOT EXISTS {{db}}.identity_merges
(
    event_id            String,
    profile_id          String,
    merged_profile_id   String,
    outcome             LowCardinality(String),
    matched_on          LowCardinality(Nullable(String)),
    reason              LowCardinality(Nullable(String)),
    trigger_event_id    Nullable(String),
    occurred_at         DateTime64(3, 'UTC'),
    emitted_at          DateTime64(3, 'UTC'),
    ingested_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (profile_id, event_id);

-- Erasures the warehouse carried out (no identifiers: profile ids and the number of rows removed).
CREATE TABLE IF NOT EXISTS {{db}}.erasures
(
    event_id            String,
    profile_id          String,
    merged_ids          Array(String),
    occurred_at         DateTime64(3, 'UTC'),
    erased_at           DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (profile_id, event_id);
