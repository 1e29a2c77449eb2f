-- A recording of a guest's visit is filed under it, as a delivery's is under the delivery.
ALTER TABLE recordings ADD COLUMN guest_visit_id TEXT;
