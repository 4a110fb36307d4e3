-- B2B accounts (issue 15): the account an input event names (account_id, and name and domain when the producer
-- knows them) on the raw rows, NULL for consumer customers and for rows stored before this migration. This is the
-- account as the event states it; the account profiles in Redis attribute a contact's whole history to its current
-- account instead (a contact that moved counts for the new one there).
ALTER TABLE {{db}}.clickstream_events ADD COLUMN IF NOT EXISTS account_id Nullable(String) CODEC(ZSTD(1));
ALTER TABLE {{db}}.clickstream_events ADD COLUMN IF NOT EXISTS account_name Nullable(String) CODEC(ZSTD(1));
ALTER TABLE {{db}}.clickstream_events ADD COLUMN IF NOT EXISTS account_domain Nullable(String) CODEC(ZSTD(1));
ALTER TABLE {{db}}.purchases ADD COLUMN IF NOT EXISTS account_id Nullable(String) CODEC(ZSTD(1));
ALTER TABLE {{db}}.purchases ADD COLUMN IF NOT EXISTS account_name Nullable(String) CODEC(ZSTD(1));
ALTER TABLE {{db}}.purchases ADD COLUMN IF NOT EXISTS account_domain Nullable(String) CODEC(ZSTD(1));
ALTER TABLE {{db}}.support_tickets ADD COLUMN IF NOT EXISTS account_id Nullable(String) CODEC(ZSTD(1));
ALTER TABLE {{db}}.support_tickets ADD COLUMN IF NOT EXISTS account_name Nullable(String) CODEC(ZSTD(1));
ALTER TABLE {{db}}.support_tickets ADD COLUMN IF NOT EXISTS account_domain Nullable(String) CODEC(ZSTD(1));
