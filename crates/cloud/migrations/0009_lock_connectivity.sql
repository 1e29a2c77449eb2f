-- Since when the household has been told that a lock is offline, or that its camera
-- is down (NULL: it has not been told). The timers raise lock.offline or
-- camera.offline once, and lock.online or camera.online when it is back.
ALTER TABLE locks ADD COLUMN offline_since BIGINT;
ALTER TABLE locks ADD COLUMN camera_down_since BIGINT;
-- When the camera last sent a heartbeat saying it records: "not recording" is an
-- alarm only once it has lasted as long as silence must.
ALTER TABLE lock_status ADD COLUMN recording_at BIGINT;
