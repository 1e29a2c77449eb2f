-- Failed sign-ins are counted per e-mail *and* client address, so an attacker
-- who knows the e-mail locks out only itself, not the owner.
ALTER TABLE sign_in_failures ADD COLUMN ip TEXT;
CREATE INDEX sign_in_failures_by_ip ON sign_in_failures (ip, at);
