-- Carriers sign every shipment; a household's policy pins these keys (docs/signed-formats.md).
CREATE TABLE carrier_keys (
    carrier_id TEXT NOT NULL REFERENCES carriers (id),
    public_key TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (carrier_id, public_key)
);
-- The carrier's signed `shipment` envelope, when it sent one.
ALTER TABLE deliveries ADD COLUMN shipment TEXT;
