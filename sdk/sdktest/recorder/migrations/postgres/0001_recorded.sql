-- Every event delivered to the recorder, once per id, with how often it came.
CREATE TABLE recorded (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    source      TEXT NOT NULL,
    payload     TEXT NOT NULL,
    deliveries  INTEGER NOT NULL,
    received_at BIGINT NOT NULL  -- Unix microseconds, UTC
);
