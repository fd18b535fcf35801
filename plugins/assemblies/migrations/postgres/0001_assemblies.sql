-- Times are TEXT in one fixed-width UTC format (see timeFormat in storage.go), so they
-- compare as strings the same way on SQLite and PostgreSQL.
CREATE TABLE assemblies (
    id                TEXT PRIMARY KEY,
    neighbourhood_id  TEXT NOT NULL,
    name              TEXT NOT NULL,
    charter           TEXT NOT NULL DEFAULT '',
    quorum_percent    INTEGER NOT NULL DEFAULT 0,
    quorum_absolute   INTEGER NOT NULL DEFAULT 0,
    majority          TEXT NOT NULL,
    secrecy           TEXT NOT NULL,
    membership        TEXT NOT NULL,
    ballot_changeable BOOLEAN NOT NULL DEFAULT FALSE,
    term_months       INTEGER NOT NULL DEFAULT 0,
    org_seats         INTEGER NOT NULL DEFAULT 0,
    created_by        TEXT NOT NULL DEFAULT '',
    created_at        TEXT NOT NULL
);
CREATE INDEX assemblies_nbh ON assemblies (neighbourhood_id);

CREATE TABLE members (
    assembly_id     TEXT NOT NULL REFERENCES assemblies (id),
    user_id         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    organisation_id TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    position        TEXT NOT NULL DEFAULT 'member',
    term_start      TEXT NOT NULL DEFAULT '',
    term_end        TEXT NOT NULL DEFAULT '',
    applied_at      TEXT NOT NULL,
    joined_at       TEXT NOT NULL DEFAULT '',
    ended_at        TEXT NOT NULL DEFAULT '',
    end_reason      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (assembly_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE meetings (
    id             TEXT PRIMARY KEY,
    assembly_id    TEXT NOT NULL REFERENCES assemblies (id),
    title          TEXT NOT NULL,
    starts_at      TEXT NOT NULL,
    ends_at        TEXT NOT NULL,
    place          TEXT NOT NULL DEFAULT '',
    online_url     TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    cancel_reason  TEXT NOT NULL DEFAULT '',
    minutes        TEXT NOT NULL DEFAULT '',
    minutes_status TEXT NOT NULL DEFAULT 'none',
    sequence       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX meetings_assembly ON meetings (assembly_id, starts_at);

CREATE TABLE agenda_items (
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    position   INTEGER NOT NULL,
    title      TEXT NOT NULL,
    motion_id  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (meeting_id, position)
);

CREATE TABLE attendance (
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    user_id    TEXT NOT NULL,
    PRIMARY KEY (meeting_id, user_id)
);

CREATE TABLE motions (
    id               TEXT PRIMARY KEY,
    assembly_id      TEXT NOT NULL REFERENCES assemblies (id),
    kind             TEXT NOT NULL,
    title            TEXT NOT NULL,
    text             TEXT NOT NULL,
    author_id        TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL,
    advice_due_at    TEXT NOT NULL DEFAULT '',
    secrecy          TEXT NOT NULL DEFAULT '',
    majority         TEXT NOT NULL DEFAULT '',
    quorum_percent   INTEGER NOT NULL DEFAULT 0,
    quorum_absolute  INTEGER NOT NULL DEFAULT 0,
    ballot_changeable BOOLEAN NOT NULL DEFAULT FALSE,
    meeting_id       TEXT NOT NULL DEFAULT '',
    electorate       INTEGER NOT NULL DEFAULT 0,
    vote_opened_at   TEXT NOT NULL DEFAULT '',
    vote_closed_at   TEXT NOT NULL DEFAULT '',
    outcome          TEXT NOT NULL DEFAULT '',
    yes_count        INTEGER NOT NULL DEFAULT 0,
    no_count         INTEGER NOT NULL DEFAULT 0,
    abstain_count    INTEGER NOT NULL DEFAULT 0,
    answer_status    TEXT NOT NULL DEFAULT '',
    answer_due_at    TEXT NOT NULL DEFAULT '',
    answer_decision  TEXT NOT NULL DEFAULT '',
    answer_reasoning TEXT NOT NULL DEFAULT '',
    answered_by      TEXT NOT NULL DEFAULT '',
    answered_at      TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX motions_assembly ON motions (assembly_id, created_at);

CREATE TABLE sponsors (
    motion_id TEXT NOT NULL REFERENCES motions (id),
    user_id   TEXT NOT NULL,
    PRIMARY KEY (motion_id, user_id)
);

-- The public timeline of a motion; ballots never appear here.
CREATE TABLE timeline (
    id        BIGSERIAL PRIMARY KEY,
    motion_id TEXT NOT NULL REFERENCES motions (id),
    at        TEXT NOT NULL,
    kind      TEXT NOT NULL,
    actor_id  TEXT NOT NULL DEFAULT '',
    detail    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX timeline_motion ON timeline (motion_id, id);

-- The electorate, frozen when the vote opens.
CREATE TABLE electorate (
    motion_id TEXT NOT NULL REFERENCES motions (id),
    user_id   TEXT NOT NULL,
    PRIMARY KEY (motion_id, user_id)
);

-- Who has voted. The primary key is what makes "one ballot per member" hold under
-- any concurrency. No timestamp or sequence column to line up with anything.
CREATE TABLE voters (
    motion_id TEXT NOT NULL REFERENCES motions (id),
    user_id   TEXT NOT NULL,
    PRIMARY KEY (motion_id, user_id)
);

-- What was voted in a secret vote: only counters, spread over shards chosen at random
-- to spread lock contention. No person, no time, no order.
CREATE TABLE secret_tally (
    motion_id TEXT NOT NULL REFERENCES motions (id),
    shard     INTEGER NOT NULL,
    choice    TEXT NOT NULL,
    n         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (motion_id, shard, choice)
);

-- What was voted in a named vote, by whom.
CREATE TABLE named_ballots (
    motion_id TEXT NOT NULL REFERENCES motions (id),
    user_id   TEXT NOT NULL,
    choice    TEXT NOT NULL,
    PRIMARY KEY (motion_id, user_id)
);

-- Events written in the same transaction as the change they announce and handed to
-- the host afterwards, so an event is never lost when the host is briefly away.
CREATE TABLE outbox (
    id      TEXT PRIMARY KEY,
    type    TEXT NOT NULL,
    payload TEXT NOT NULL,
    at      TEXT NOT NULL
);
