-- Guests invited by code: the household's sealed code and terms until the guest
-- redeems the code with the key they made and a household device signs them in.
CREATE TABLE guest_invitations (
    -- The code's first two groups; the rest of the code is a secret the cloud never sees.
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (id),
    guest_id TEXT NOT NULL,
    name TEXT NOT NULL,
    sealed TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    guest_key TEXT,
    proof TEXT,
    redeemed_at BIGINT,
    completed_at BIGINT
);
CREATE INDEX guest_invitations_by_household ON guest_invitations (household_id, created_at);
