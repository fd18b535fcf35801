-- The request path: the per-organisation active-booking count and the
-- equipment check use an index instead of scanning every booking of the
-- park, and events wait in a local outbox written in the same transaction
-- as the booking, so none is lost when the host is briefly away and the
-- request does not wait for the host's commit.
CREATE INDEX bookings_area_org ON bookings (area_id, organisation_id, end_us);
CREATE INDEX bookings_park_status_start ON bookings (park_id, status, start_us);

CREATE TABLE outbox (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    occurred_at BIGINT NOT NULL
);
