-- Parks, their areas (a tree), bookings and the occupancy rows that keep
-- approved bookings apart. Times are Unix microseconds (UTC), so the same
-- comparisons run on SQLite and PostgreSQL.
CREATE TABLE parks (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    neighbourhood_id TEXT NOT NULL,
    time_zone        TEXT NOT NULL,
    support_items    TEXT NOT NULL DEFAULT '{}',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX parks_neighbourhood ON parks (neighbourhood_id);

CREATE TABLE areas (
    id            TEXT PRIMARY KEY,
    park_id       TEXT NOT NULL REFERENCES parks (id),
    parent_id     TEXT REFERENCES areas (id),
    name          TEXT NOT NULL,
    capacity      INTEGER NOT NULL,
    opening_hours TEXT NOT NULL,
    rules         TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX areas_park ON areas (park_id);

CREATE TABLE bookings (
    id                  TEXT PRIMARY KEY,
    park_id             TEXT NOT NULL REFERENCES parks (id),
    area_id             TEXT NOT NULL REFERENCES areas (id),
    series_id           TEXT NOT NULL DEFAULT '',
    kind                TEXT NOT NULL,
    status              TEXT NOT NULL,
    organisation_id     TEXT NOT NULL DEFAULT '',
    organisation_name   TEXT NOT NULL DEFAULT '',
    requester_id        TEXT NOT NULL DEFAULT '',
    title               TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    category            TEXT NOT NULL DEFAULT '',
    expected_attendance INTEGER NOT NULL DEFAULT 0,
    public              INTEGER NOT NULL DEFAULT 0,
    support_items       TEXT NOT NULL DEFAULT '{}',
    accessibility_notes TEXT NOT NULL DEFAULT '',
    volunteers_needed   INTEGER NOT NULL DEFAULT 0,
    contact_name        TEXT NOT NULL DEFAULT '',
    contact_email       TEXT NOT NULL DEFAULT '',
    contact_phone       TEXT NOT NULL DEFAULT '',
    start_us            BIGINT NOT NULL,
    end_us              BIGINT NOT NULL,
    reason              TEXT NOT NULL DEFAULT '',
    decided_by          TEXT NOT NULL DEFAULT '',
    was_approved        INTEGER NOT NULL DEFAULT 0,
    sequence            INTEGER NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    CHECK (end_us > start_us)
);
CREATE INDEX bookings_park_start ON bookings (park_id, start_us);
CREATE INDEX bookings_series ON bookings (series_id);
CREATE INDEX bookings_requester ON bookings (requester_id);

-- One row per approved or blocking booking and area it occupies: the booked
-- area with self = 1 and self = 0, each ancestor with self = 0. Two rows
-- clash when they share an area, overlap, differ in self and belong to
-- different bookings; so a booking clashes with bookings of the same area,
-- of its ancestors and of its descendants, but not of its siblings.
-- [lo, hi) is the booking widened by half its area's buffer on each side.
CREATE TABLE booking_occupancy (
    booking_id TEXT NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    area_id    TEXT NOT NULL,
    self       SMALLINT NOT NULL,
    lo         BIGINT NOT NULL,
    hi         BIGINT NOT NULL,
    PRIMARY KEY (booking_id, area_id, self)
);
CREATE INDEX booking_occupancy_area ON booking_occupancy (area_id, lo);

CREATE TABLE processed_events (
    id         TEXT PRIMARY KEY,
    handled_at BIGINT NOT NULL
);
