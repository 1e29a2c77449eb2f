-- The bolt and the door as the lock last reported them (its newest journal line
-- that says either), so the household sees the lock's state, not only the cloud's.
ALTER TABLE locks ADD COLUMN bolt TEXT;
ALTER TABLE locks ADD COLUMN door TEXT;
ALTER TABLE locks ADD COLUMN position_at BIGINT;
