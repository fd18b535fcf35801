CREATE TABLE pings (
    id      BIGSERIAL PRIMARY KEY,
    user_id TEXT NOT NULL DEFAULT '',
    at      TEXT NOT NULL
);
