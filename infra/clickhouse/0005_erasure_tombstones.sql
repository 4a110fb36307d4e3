-- Tombstones: the identifier hashes (HMAC-SHA256 of "<type>:<normalised value>", as ProfileErased.identifier_hashes)
-- of every erased profile. Events carrying one of them that arrive after the erasure are not stored.
ALTER TABLE {{db}}.erasures ADD COLUMN IF NOT EXISTS identifier_hashes Array(String);
