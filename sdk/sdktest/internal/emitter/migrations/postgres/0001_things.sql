-- A thing per event: each transaction changes rows and emits their events together.
CREATE TABLE things (
    id      TEXT PRIMARY KEY,
    label   TEXT NOT NULL,
    made_at BIGINT NOT NULL  -- Unix microseconds, UTC
);
