-- Plugin host state (issue 3).

-- Where each subscribing plugin is in the outbox: every event with seq <= last_seq has
-- been delivered to it (or was of a type it does not subscribe to). One row per
-- subscriber; the node delivering a subscriber's stream holds an advisory lock on it.
CREATE TABLE plugin_event_cursors (
    subscriber TEXT PRIMARY KEY,
    last_seq   BIGINT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMP NOT NULL
);

-- The last state a node reported for each plugin, for `kvarter plugins list`.
CREATE TABLE plugin_status (
    name       TEXT PRIMARY KEY,
    version    TEXT NOT NULL DEFAULT '',
    state      TEXT NOT NULL,
    restarts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMP NOT NULL
);

-- The login of each plugin's own PostgreSQL role (unused on SQLite; kept so both
-- dialects have the same tables).
CREATE TABLE plugin_store_logins (
    role_name  TEXT PRIMARY KEY,
    password   TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
