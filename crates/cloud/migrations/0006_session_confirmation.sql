-- When the device last confirmed the password (or signed in): sensitive
-- actions need it within the last few minutes, so a stolen access token alone
-- cannot take over the login.
ALTER TABLE sessions ADD COLUMN confirmed_at BIGINT;
