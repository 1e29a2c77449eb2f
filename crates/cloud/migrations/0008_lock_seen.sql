-- When the lock itself (not its camera) was last heard from: a lock whose camera
-- is unplugged says it is alive, so the household is told "camera not recording",
-- not "lock offline", and a courier hears the true reason the door stays shut.
ALTER TABLE locks ADD COLUMN seen_at BIGINT;
