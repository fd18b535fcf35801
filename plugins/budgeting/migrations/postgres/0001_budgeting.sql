-- Budgeting schema (PostgreSQL). Times are fixed-width RFC 3339 UTC text so they compare
-- as strings, which keeps the queries identical on both dialects.
CREATE TABLE cycles (
    id               TEXT PRIMARY KEY,
    parent_id        TEXT REFERENCES cycles (id),
    neighbourhood_id TEXT NOT NULL,
    name             TEXT NOT NULL,
    budget           BIGINT NOT NULL CHECK (budget >= 0),
    currency         TEXT NOT NULL,
    ballot           TEXT NOT NULL,
    support_top_n    INTEGER NOT NULL DEFAULT 0,
    simulation       BOOLEAN NOT NULL DEFAULT FALSE,
    phase            TEXT NOT NULL,
    schedule         TEXT NOT NULL,
    next_at          TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX cycles_next_at ON cycles (next_at);
CREATE INDEX cycles_neighbourhood ON cycles (neighbourhood_id);

CREATE TABLE proposals (
    id             TEXT PRIMARY KEY,
    cycle_id       TEXT NOT NULL REFERENCES cycles (id),
    author_id      TEXT,
    title          TEXT NOT NULL,
    description    TEXT NOT NULL,
    category       TEXT NOT NULL,
    location       TEXT NOT NULL,
    cost           BIGINT NOT NULL CHECK (cost >= 0),
    final_cost     BIGINT NOT NULL DEFAULT 0 CHECK (final_cost >= 0),
    status         TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    merged_into    TEXT NOT NULL DEFAULT '',
    implementation TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX proposals_cycle ON proposals (cycle_id, id);
CREATE INDEX proposals_author ON proposals (author_id);

CREATE TABLE supports (
    proposal_id TEXT NOT NULL REFERENCES proposals (id),
    user_id     TEXT NOT NULL,
    PRIMARY KEY (proposal_id, user_id)
);
CREATE INDEX supports_user ON supports (user_id);

CREATE TABLE project_updates (
    id          TEXT PRIMARY KEY,
    proposal_id TEXT NOT NULL REFERENCES proposals (id),
    status      TEXT NOT NULL,
    note        TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX project_updates_proposal ON project_updates (proposal_id, at);

-- Who voted. The primary key is what makes "one ballot per person per cycle" hold
-- under any concurrency and across nodes. No time, no ballot reference.
CREATE TABLE voters (
    cycle_id TEXT NOT NULL REFERENCES cycles (id),
    user_id  TEXT NOT NULL,
    PRIMARY KEY (cycle_id, user_id)
);
CREATE INDEX voters_user ON voters (user_id);

-- What was voted. A random (v4) id, so no key reflects the order ballots were cast in
-- (the package doc says what heap order and xmin still reveal to a database superuser).
-- token_hash is the sha256 of the
-- replacement token only the voter holds (when ballots are replaceable).
CREATE TABLE ballots (
    id         TEXT PRIMARY KEY,
    cycle_id   TEXT NOT NULL REFERENCES cycles (id),
    paper      BOOLEAN NOT NULL,
    imported   BOOLEAN NOT NULL,
    token_hash TEXT UNIQUE,
    content    TEXT NOT NULL
);
CREATE INDEX ballots_cycle ON ballots (cycle_id, id);

CREATE TABLE results (
    cycle_id     TEXT PRIMARY KEY REFERENCES cycles (id),
    body         TEXT NOT NULL,
    published_at TEXT NOT NULL
);

CREATE TABLE processed_events (
    id TEXT PRIMARY KEY
);
