-- Consultations schema (SQLite). Times are BIGINT Unix microseconds, UTC (store.Micros).

-- A consultation: its definition, and the moments it moved on. Its stage is derived
-- from them and the clock (domain.go: Stage), so no background job must run for a
-- consultation to open or close on time.
CREATE TABLE consultations (
    id                 TEXT PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('survey', 'poll', 'ideas')),
    title              TEXT NOT NULL,
    background         TEXT NOT NULL,
    what_next          TEXT NOT NULL,
    assembly_id        TEXT NOT NULL DEFAULT '',
    participation      TEXT NOT NULL CHECK (participation IN ('anyone', 'signed_in', 'residents')),
    min_age            INTEGER NOT NULL DEFAULT 0,
    anonymous_allowed  BOOLEAN NOT NULL DEFAULT 0,
    editable           BOOLEAN NOT NULL DEFAULT 1,
    poll_results       TEXT NOT NULL DEFAULT 'after_close' CHECK (poll_results IN ('after_vote', 'after_close')),
    opens_at           BIGINT NOT NULL,
    closes_at          BIGINT NOT NULL,
    created_by         TEXT NOT NULL DEFAULT '',
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    published_at       BIGINT,
    closed_at          BIGINT,
    finalised_at       BIGINT,
    results_at         BIGINT,
    response           TEXT NOT NULL DEFAULT '',
    responded_at       BIGINT,
    responded_by       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX consultations_closes ON consultations (closes_at, id);

-- The neighbourhoods a consultation is for; none means city-wide.
CREATE TABLE consultation_neighbourhoods (
    consultation_id  TEXT NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
    neighbourhood_id TEXT NOT NULL,
    PRIMARY KEY (consultation_id, neighbourhood_id)
) WITHOUT ROWID;
CREATE INDEX consultation_neighbourhoods_nbh ON consultation_neighbourhoods (neighbourhood_id);

-- Files of the background, received and kept by the host (sdk uploads).
CREATE TABLE attachments (
    consultation_id TEXT NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
    upload_id       TEXT NOT NULL,
    name            TEXT NOT NULL,
    position        INTEGER NOT NULL,
    PRIMARY KEY (consultation_id, upload_id)
);

CREATE TABLE questions (
    id              TEXT PRIMARY KEY,
    consultation_id TEXT NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('single', 'multiple', 'scale', 'ranking', 'text')),
    prompt          TEXT NOT NULL,
    help            TEXT NOT NULL DEFAULT '',
    required        BOOLEAN NOT NULL,
    min_choices     INTEGER NOT NULL DEFAULT 0,
    max_choices     INTEGER NOT NULL DEFAULT 0,
    scale_min       INTEGER NOT NULL DEFAULT 0,
    scale_max       INTEGER NOT NULL DEFAULT 0,
    scale_min_label TEXT NOT NULL DEFAULT '',
    scale_max_label TEXT NOT NULL DEFAULT '',
    max_length      INTEGER NOT NULL DEFAULT 0,
    show_if_question TEXT NOT NULL DEFAULT '',
    show_if_option   TEXT NOT NULL DEFAULT '',
    UNIQUE (consultation_id, position)
);

CREATE TABLE options (
    id          TEXT PRIMARY KEY,
    question_id TEXT NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    label       TEXT NOT NULL,
    UNIQUE (question_id, position)
);

-- Who took part: the primary key is what makes "one answer per person per
-- consultation" hold under any concurrency and across nodes. No time and no answer
-- reference: an anonymous participant's mark says that they answered, never what.
CREATE TABLE participants (
    consultation_id TEXT NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    anonymous       BOOLEAN NOT NULL,
    PRIMARY KEY (consultation_id, user_id)
) WITHOUT ROWID;
CREATE INDEX participants_user ON participants (user_id);

-- Answers in the clear: a signed-in person's named answer (user_id set, editable), a
-- visitor's answer where anyone may take part, and, from the close on, the opened
-- anonymous answers (user_id NULL). A random (v4) id and WITHOUT ROWID so that neither
-- a key nor the storage order reflects the order anonymous answers were given in; the
-- key starts with the consultation, so its answers are read as one range (results).
CREATE TABLE answers (
    consultation_id TEXT NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    user_id         TEXT,
    content         TEXT NOT NULL,
    PRIMARY KEY (consultation_id, id),
    UNIQUE (consultation_id, user_id)
) WITHOUT ROWID;
CREATE INDEX answers_user ON answers (user_id);

-- Anonymous answers while the consultation is open: sealed to the consultation's key
-- (sdk.BallotBox), padded to one size per consultation, opened, shuffled and moved to
-- answers at the close.
CREATE TABLE sealed_answers (
    consultation_id TEXT NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    sealed          BLOB NOT NULL,
    PRIMARY KEY (consultation_id, id)
) WITHOUT ROWID;

-- Free-text answers, copied out of the answers at the close in random order and with
-- no link to the answer or its author, for staff to redact (personal data) before
-- the results are published. Only redacted text of a published entry is ever public.
CREATE TABLE texts (
    id              TEXT PRIMARY KEY,
    consultation_id TEXT NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
    question_id     TEXT NOT NULL,
    original        TEXT NOT NULL,
    redacted        TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'published', 'withheld')),
    decided_by      TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX texts_consultation ON texts (consultation_id, question_id, id);

-- The results as published: computed once, never changed, read by every visitor.
CREATE TABLE published_results (
    consultation_id TEXT PRIMARY KEY REFERENCES consultations (id) ON DELETE CASCADE,
    content         TEXT NOT NULL
);
