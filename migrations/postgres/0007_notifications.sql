-- Notifications (issue 17, DESIGN.md §11). Keep in step with sqlite/0007_notifications.sql.
--
-- A request (what a plugin sent through its outbox, or the core) is stored once with
-- its text in every language it came in; each recipient gets one row that names the
-- language picked for them. UNIQUE (request_id, user_id) makes a request delivered
-- again, on any node, add nothing.
CREATE TABLE notification_requests (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT '',
    link        TEXT NOT NULL DEFAULT '',
    occurred_at TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE notification_texts (
    request_id TEXT NOT NULL REFERENCES notification_requests(id) ON DELETE CASCADE,
    language   TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (request_id, language)
);

-- delivery is what the person chose (or the kind's default) when it was stored.
-- mailed_at is when its own mail was queued, which is when it was stored (the hourly
-- cap counts these through notifications_list); digest is the digest still to carry
-- it ('daily' or 'weekly'), digest_ref the digest that did ("daily:2026-03-29"), set
-- in the transaction that queued that digest's mail.
CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES notification_requests(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    language   TEXT NOT NULL,
    delivery   TEXT NOT NULL CHECK (delivery IN ('immediately', 'daily', 'weekly', 'in_app')),
    created_at TIMESTAMPTZ NOT NULL,
    read_at    TIMESTAMPTZ,
    mailed_at  TIMESTAMPTZ,
    digest     TEXT CHECK (digest IN ('daily', 'weekly')),
    digest_ref TEXT,
    UNIQUE (request_id, user_id)
);
CREATE INDEX notifications_list ON notifications (user_id, created_at, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
CREATE INDEX notifications_undigested ON notifications (digest, user_id) WHERE digest IS NOT NULL AND digest_ref IS NULL;
CREATE INDEX notifications_digested ON notifications (user_id, digest_ref) WHERE digest_ref IS NOT NULL;

-- A person's delivery of one kind; a kind with no row has its declared default.
CREATE TABLE notification_preferences (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    delivery   TEXT NOT NULL CHECK (delivery IN ('immediately', 'daily', 'weekly', 'in_app')),
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, kind)
);

CREATE TABLE follows (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    subject    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, subject)
);
CREATE INDEX follows_subject ON follows (subject);

-- One row per digest period ("daily:2026-03-29", "weekly:2026-03-30"): the node that
-- inserts it sends that digest; another takes it over only when the claim is stale
-- and the run never finished.
CREATE TABLE notification_digest_runs (
    period      TEXT PRIMARY KEY,
    claimed_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
