-- What the lock last reported about the door for a delivery's entry: NULL while
-- the lock has not moved for it; then unlocking, unlocked, open, closed, locked,
-- jammed, or unconfirmed (no relock reported in time). The household is told
-- "locked" only from `locked`.
ALTER TABLE deliveries ADD COLUMN door TEXT;
ALTER TABLE deliveries ADD COLUMN door_at BIGINT;
