-- A guest's id is chosen by the household's device (it is signed into the
-- invitation), so it is unique only within that household: keyed by
-- (household_id, id), a household can no longer learn that another household
-- uses an id (a 409 where it should get a 201).
CREATE TABLE guests_scoped (
    household_id TEXT NOT NULL REFERENCES households (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    guest_key TEXT NOT NULL,
    -- The household-signed guest-invitation envelope.
    invitation TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revocation TEXT,
    PRIMARY KEY (household_id, id)
);
INSERT INTO guests_scoped (household_id, id, name, guest_key, invitation, created_by, created_at, revoked_at, revocation)
    SELECT household_id, id, name, guest_key, invitation, created_by, created_at, revoked_at, revocation FROM guests;

CREATE TABLE guest_visits_scoped (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (id),
    guest_id TEXT NOT NULL,
    lock_id TEXT NOT NULL REFERENCES locks (id),
    grant_id TEXT NOT NULL,
    state TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    FOREIGN KEY (household_id, guest_id) REFERENCES guests_scoped (household_id, id)
);
INSERT INTO guest_visits_scoped (id, household_id, guest_id, lock_id, grant_id, state, started_at, ended_at)
    SELECT id, household_id, guest_id, lock_id, grant_id, state, started_at, ended_at FROM guest_visits;

DROP TABLE guest_visits;
DROP TABLE guests;
ALTER TABLE guests_scoped RENAME TO guests;
ALTER TABLE guest_visits_scoped RENAME TO guest_visits;
CREATE INDEX guest_visits_by_guest ON guest_visits (household_id, guest_id, lock_id, state);
