-- Portable SQL: runs unchanged on SQLite and PostgreSQL (sqlx Any driver).
-- Times are BIGINT milliseconds since the Unix epoch; ids are UUID text; keys and
-- signed objects are base64url text.

CREATE TABLE households (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    -- Argon2id PHC string of the auth key the client derived from the password.
    auth_hash TEXT NOT NULL,
    -- Salt for the client's own Argon2id (auth key + wrapping key); not secret.
    kdf_salt TEXT NOT NULL,
    household_public_key TEXT NOT NULL,
    -- The household's private key, encrypted by the client; the cloud cannot open it.
    wrapped_household_key TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    lead_time_minutes BIGINT NOT NULL,
    event_seq BIGINT NOT NULL,
    -- Optional second factor (RFC 6238). The server must know the secret to check
    -- codes; last_step stops a code being used twice.
    totp_secret TEXT,
    totp_pending TEXT,
    totp_last_step BIGINT,
    -- The household-signed standing delivery policy, if it opted into one.
    policy TEXT,
    policy_version BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (id),
    name TEXT NOT NULL,
    device_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    signed_out_at BIGINT
);
CREATE INDEX devices_by_household ON devices (household_id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (id),
    device_id TEXT NOT NULL REFERENCES devices (id),
    -- SHA-256 of the tokens; the tokens themselves are never stored.
    access_hash TEXT NOT NULL UNIQUE,
    access_expires_at BIGINT NOT NULL,
    refresh_hash TEXT NOT NULL UNIQUE,
    refresh_expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_reason TEXT
);
CREATE INDEX sessions_by_device ON sessions (device_id);

-- Refresh tokens already exchanged: presenting one again means it was stolen.
CREATE TABLE retired_refresh_tokens (
    hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    retired_at BIGINT NOT NULL
);

CREATE TABLE sign_in_failures (
    email TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_by_email ON sign_in_failures (email, at);

-- One ordered log per household; seq comes from households.event_seq.
CREATE TABLE events (
    household_id TEXT NOT NULL REFERENCES households (id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    device_id TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (household_id, seq)
);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (id),
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    device_id TEXT,
    session_id TEXT,
    action TEXT NOT NULL,
    object_id TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_by_household ON audit_log (household_id, at);

CREATE TABLE carriers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    api_key_hash TEXT NOT NULL UNIQUE,
    webhook_url TEXT,
    -- HMAC key for webhook signatures; the carrier holds the same value.
    webhook_secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE addresses (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (id),
    label TEXT NOT NULL,
    kind TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX addresses_by_household ON addresses (household_id);

CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (id),
    carrier_id TEXT NOT NULL REFERENCES carriers (id),
    tracking_id TEXT NOT NULL,
    courier_key TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    window_end BIGINT NOT NULL,
    eta BIGINT,
    state TEXT NOT NULL,
    approval TEXT,
    approved_by TEXT,
    revocation TEXT,
    lock_id TEXT,
    reroute_address_id TEXT REFERENCES addresses (id),
    -- Set while the camera's heartbeats are missing during an entry.
    feed_lost_at BIGINT,
    revision BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (carrier_id, tracking_id)
);
CREATE INDEX deliveries_by_household ON deliveries (household_id, window_start);

CREATE TABLE webhook_outbox (
    id TEXT PRIMARY KEY,
    carrier_id TEXT NOT NULL REFERENCES carriers (id),
    idempotency_key TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (delivered_at, next_attempt_at);

CREATE TABLE locks (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    lock_key TEXT NOT NULL,
    camera_key TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    paired_at BIGINT NOT NULL
);
CREATE INDEX locks_by_household ON locks (household_id);

CREATE TABLE pairing_codes (
    code_hash TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- The newest signed camera heartbeat per lock.
CREATE TABLE lock_status (
    lock_id TEXT PRIMARY KEY REFERENCES locks (id),
    heartbeat TEXT NOT NULL,
    recording BIGINT NOT NULL,
    captured_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);

CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (id),
    delivery_id TEXT REFERENCES deliveries (id),
    lock_id TEXT NOT NULL REFERENCES locks (id),
    holder_key TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    window_end BIGINT NOT NULL,
    signed TEXT NOT NULL,
    issued_at BIGINT NOT NULL
);
CREATE INDEX grants_by_delivery ON grants (delivery_id);

-- What locks reported, idempotent by (lock, seq).
CREATE TABLE lock_journal (
    lock_id TEXT NOT NULL REFERENCES locks (id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    delivery_id TEXT,
    payload TEXT NOT NULL,
    at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (lock_id, seq)
);

CREATE TABLE guests (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (id),
    name TEXT NOT NULL,
    guest_key TEXT NOT NULL,
    -- The household-signed guest-invitation envelope.
    invitation TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revocation TEXT
);
CREATE INDEX guests_by_household ON guests (household_id);

CREATE TABLE guest_visits (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (id),
    guest_id TEXT NOT NULL REFERENCES guests (id),
    lock_id TEXT NOT NULL REFERENCES locks (id),
    grant_id TEXT NOT NULL,
    state TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT
);

-- A continuous run of camera frames from one lock; frames and their index live in
-- the recordings store (a folder by default), not in the database.
CREATE TABLE recordings (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (id),
    lock_id TEXT NOT NULL REFERENCES locks (id),
    delivery_id TEXT,
    started_at BIGINT NOT NULL,
    last_frame_at BIGINT NOT NULL,
    frames BIGINT NOT NULL
);
CREATE INDEX recordings_by_household ON recordings (household_id, started_at);
