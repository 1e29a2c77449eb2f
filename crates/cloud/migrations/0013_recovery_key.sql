-- The recovery key a household keeps on paper: the Argon2id hash of the auth key the
-- client derived from it, and the household key sealed under it (opaque to the
-- cloud). NULL for a login that has none (made before recovery keys).
ALTER TABLE households ADD COLUMN recovery_auth_hash TEXT;
ALTER TABLE households ADD COLUMN recovery_wrapped_key TEXT;
