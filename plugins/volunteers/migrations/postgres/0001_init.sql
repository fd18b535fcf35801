-- Times are TEXT in UTC, "YYYY-MM-DDTHH:MM:SSZ", so they compare as strings the same way
-- on both databases; lists are JSON arrays in TEXT.
CREATE TABLE skills (
    id         TEXT PRIMARY KEY,
    names      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE profiles (
    user_id            TEXT PRIMARY KEY,
    skills             TEXT NOT NULL,
    tags               TEXT NOT NULL,
    languages          TEXT NOT NULL,
    availability       TEXT NOT NULL,
    unavailable        TEXT NOT NULL,
    neighbourhoods     TEXT NOT NULL,
    max_weekly_minutes INTEGER NOT NULL DEFAULT 0,
    birth_date         TEXT NOT NULL,
    check_status       TEXT NOT NULL DEFAULT 'none',
    check_expires      TEXT NOT NULL DEFAULT '',
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);

CREATE TABLE opportunities (
    id                     TEXT PRIMARY KEY,
    organisation_id        TEXT NOT NULL DEFAULT '',
    created_by             TEXT NOT NULL DEFAULT '',
    title                  TEXT NOT NULL,
    description            TEXT NOT NULL DEFAULT '',
    neighbourhood_id       TEXT NOT NULL DEFAULT '',
    place                  TEXT NOT NULL DEFAULT '',
    required_skills        TEXT NOT NULL,
    preferred_skills       TEXT NOT NULL,
    languages              TEXT NOT NULL,
    min_age                INTEGER NOT NULL DEFAULT 0,
    needs_background_check INTEGER NOT NULL DEFAULT 0,
    auto_accept            INTEGER NOT NULL DEFAULT 0,
    state                  TEXT NOT NULL,
    source_event_id        TEXT UNIQUE,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);
CREATE INDEX opportunities_state ON opportunities (state, id);

CREATE TABLE shifts (
    id             TEXT PRIMARY KEY,
    opportunity_id TEXT NOT NULL REFERENCES opportunities (id) ON DELETE CASCADE,
    starts_at      TEXT NOT NULL,
    ends_at        TEXT NOT NULL,
    capacity       INTEGER NOT NULL CHECK (capacity >= 0),
    CHECK (ends_at > starts_at)
);
CREATE INDEX shifts_opportunity ON shifts (opportunity_id, starts_at);

CREATE TABLE applications (
    id             TEXT PRIMARY KEY,
    shift_id       TEXT NOT NULL REFERENCES shifts (id) ON DELETE CASCADE,
    opportunity_id TEXT NOT NULL,
    volunteer_id   TEXT NOT NULL,
    status         TEXT NOT NULL,
    origin         TEXT NOT NULL,
    minutes        INTEGER NOT NULL DEFAULT 0,
    waitlisted_at  TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (shift_id, volunteer_id)
);
CREATE INDEX applications_shift ON applications (shift_id, status);
CREATE INDEX applications_volunteer ON applications (volunteer_id, status);
CREATE INDEX applications_opportunity ON applications (opportunity_id);

-- One row whose version changes whenever data the match index is built from changes,
-- so every node knows when its cached index is stale.
CREATE TABLE index_version (
    id      INTEGER PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO index_version (id, version) VALUES (1, 0);
