-- Core schema, PostgreSQL dialect. Keep in step with sqlite/0001_core.sql.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT,
    email_key     TEXT UNIQUE,
    password_hash TEXT,
    display_name  TEXT NOT NULL,
    language      TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    deleted_at    TIMESTAMPTZ
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL CHECK (kind IN ('session', 'api_token')),
    name         TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    client_ip    TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX sessions_user ON sessions(user_id, kind);

CREATE TABLE login_throttle (
    throttle_key TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ
);

CREATE TABLE neighbourhoods (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    parent_id   TEXT REFERENCES neighbourhoods(id),
    boundary    TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    archived_at TIMESTAMPTZ
);

CREATE TABLE memberships (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    neighbourhood_id TEXT NOT NULL REFERENCES neighbourhoods(id),
    state            TEXT NOT NULL CHECK (state IN ('requested', 'verified', 'rejected', 'left', 'revoked')),
    note             TEXT NOT NULL DEFAULT '',
    reason           TEXT NOT NULL DEFAULT '',
    decided_by       TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    verified_at      TIMESTAMPTZ
);
CREATE UNIQUE INDEX memberships_open ON memberships(user_id, neighbourhood_id) WHERE state IN ('requested', 'verified');
CREATE INDEX memberships_nbh ON memberships(neighbourhood_id, state);

CREATE TABLE organisations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL CHECK (state IN ('pending', 'verified', 'rejected')),
    reason      TEXT NOT NULL DEFAULT '',
    created_by  TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE organisation_neighbourhoods (
    organisation_id  TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    neighbourhood_id TEXT NOT NULL REFERENCES neighbourhoods(id),
    PRIMARY KEY (organisation_id, neighbourhood_id)
);

CREATE TABLE organisation_members (
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('member', 'representative')),
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organisation_id, user_id)
);
CREATE INDEX organisation_members_user ON organisation_members(user_id);

CREATE TABLE role_permissions (
    role       TEXT NOT NULL,
    permission TEXT NOT NULL,
    source     TEXT NOT NULL DEFAULT 'core',
    PRIMARY KEY (role, permission)
);

CREATE TABLE role_grants (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    domain     TEXT NOT NULL,
    granted_by TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, role, domain)
);

CREATE TABLE policy_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO policy_version (id, version) VALUES (1, 1);

CREATE TABLE audit_log (
    seq        BIGSERIAL PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    at         TIMESTAMPTZ NOT NULL,
    actor_id   TEXT,
    action     TEXT NOT NULL,
    domain     TEXT NOT NULL DEFAULT '',
    target     TEXT NOT NULL DEFAULT '',
    request_id TEXT NOT NULL DEFAULT '',
    detail     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_action ON audit_log(action, seq);
CREATE INDEX audit_log_actor ON audit_log(actor_id, seq);

CREATE TABLE outbox_events (
    seq         BIGSERIAL PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    type        TEXT NOT NULL,
    source      TEXT NOT NULL,
    payload     TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL
);
