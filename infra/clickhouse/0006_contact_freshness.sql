-- Contact freshness (issue 13): when a profile's contact data (any e-mail or phone) was last confirmed by an event.
-- `profiles` keeps only the latest version of a profile once ClickHouse merges its parts, so the history the by-month
-- view needs is kept in `profile_contact_months`: per profile and month (UTC) the month's last snapshot, filled by a
-- materialized view from every snapshot inserted. No identifiers in it, only profile ids and times.
ALTER TABLE {{db}}.profiles ADD COLUMN IF NOT EXISTS contact_confirmed_at Nullable(DateTime64(3, 'UTC'));

CREATE TABLE IF NOT EXISTS {{db}}.profile_contact_months
(
    profile_id           String,
    month                Date,
    version              UInt64,
    updated_at           DateTime64(3, 'UTC'),
    has_contact          Bool,
    -- NULL with has_contact: a snapshot written before this migration (confirmation unknown)
    contact_confirmed_at Nullable(DateTime64(3, 'UTC')),
    merged_ids           Array(String)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (profile_id, month);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.profile_contact_months_mv TO {{db}}.profile_contact_months AS
SELECT profile_id, toStartOfMonth(updated_at) AS month, version, updated_at, notEmpty(emails) OR notEmpty(phones) AS has_contact,
       contact_confirmed_at, merged_ids
FROM {{db}}.profiles;

-- The snapshots stored before this migration: each profile's latest, in its month (a re-run after a failure adds
-- duplicates that ReplacingMergeTree and the view's argMax absorb).
INSERT INTO {{db}}.profile_contact_months
SELECT profile_id, toStartOfMonth(updated_at), version, updated_at, notEmpty(emails) OR notEmpty(phones), contact_confirmed_at, merged_ids
FROM {{db}}.profiles FINAL;

-- Per month (UTC), as of its end (the current month: as of now): the profiles with contact data in their latest
-- snapshot of that time, those whose newest confirmation is 365 days old or more (stale, as the stale-contact segment
-- counts by default), those without a known confirmation time (snapshots older than this migration), and the share
-- of stale among those known. Profiles merged into another by then are not counted (their contacts are the survivor's);
-- erased ones nowhere. Months run from the first snapshot's to the current one.
CREATE VIEW IF NOT EXISTS {{db}}.contact_freshness_by_month AS
SELECT
    p.m_month AS month,
    countIf(latest.1) AS with_contact,
    countIf(latest.1 AND latest.2 IS NOT NULL AND latest.2 <= as_of - toIntervalDay(365)) AS stale,
    countIf(latest.1 AND latest.2 IS NULL) AS unknown,
    round(stale / nullIf(with_contact - unknown, 0), 4) AS stale_share
FROM
(
    SELECT m.month AS m_month, m.as_of AS as_of, s.profile_id AS profile_id,
           -- the latest snapshot as of the month's end; a tuple, so that a NULL time is kept rather than skipped
           argMax(tuple(s.has_contact, s.contact_confirmed_at), (s.month, s.version)) AS latest
    FROM
    (
        SELECT addMonths(first, n) AS month, least(toDateTime64(addMonths(first, n + 1), 3, 'UTC'), now64(3, 'UTC')) AS as_of
        FROM (SELECT min(month) AS first FROM {{db}}.profile_contact_months HAVING count() > 0)
        ARRAY JOIN range(toUInt32(dateDiff('month', first, toStartOfMonth(now('UTC'))) + 1)) AS n
    ) AS m
    CROSS JOIN {{db}}.profile_contact_months AS s
    WHERE s.month <= m.month
    GROUP BY m_month, as_of, profile_id
) AS p
LEFT JOIN
(
    SELECT arrayJoin(merged_ids) AS merged_id, min(month) AS merged_month FROM {{db}}.profile_contact_months GROUP BY merged_id
) AS g ON p.profile_id = g.merged_id
WHERE g.merged_id = '' OR g.merged_month > p.m_month
GROUP BY month
ORDER BY month;
