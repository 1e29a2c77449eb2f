-- One row that /healthz rewrites while writes are failing, to see when they work again.
CREATE TABLE write_probe (
    id INTEGER PRIMARY KEY,
    written_at BIGINT NOT NULL
);

-- Times are range-checked where they enter now; rows stored before could hold
-- values whose arithmetic overflows (an ETA of -2^63 stopped the timers).
UPDATE deliveries SET eta = NULL WHERE eta < 0 OR eta > 253402300799999;
