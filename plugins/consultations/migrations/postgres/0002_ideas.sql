-- The idea board of a consultation of kind "ideas" and the moderation of what residents
-- write on it. Times are Unix microseconds (UTC). An erased person's ideas and comments
-- stay with author_id '' and author_name '' ("a former member"); their supports,
-- reports and rate windows go.
CREATE TABLE ideas (
    id               TEXT PRIMARY KEY,
    consultation_id  TEXT NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
    author_id        TEXT NOT NULL,
    -- The name the author chose to show, '' for "a resident".
    author_name      TEXT NOT NULL,
    title            TEXT NOT NULL,
    body             TEXT NOT NULL,
    neighbourhood_id TEXT NOT NULL DEFAULT '',
    -- open, under_review, taken_forward or not_taken_forward, with the staff's reason.
    status           TEXT NOT NULL DEFAULT 'open',
    status_reason    TEXT NOT NULL DEFAULT '',
    status_by        TEXT NOT NULL DEFAULT '',
    status_at        BIGINT NOT NULL DEFAULT 0,
    -- Kept with every support given or withdrawn, in the same transaction, so the
    -- board sorts by it without counting.
    supports         INTEGER NOT NULL DEFAULT 0,
    -- Likewise the comments on it, kept with each comment added.
    comments         INTEGER NOT NULL DEFAULT 0,
    -- '' while visible; the category of the moderator's hiding otherwise.
    hidden_category  TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL
);
CREATE INDEX ideas_newest ON ideas (consultation_id, created_at, id);
CREATE INDEX ideas_supported ON ideas (consultation_id, supports, created_at, id);
CREATE INDEX ideas_author ON ideas (author_id, created_at);

CREATE TABLE idea_comments (
    id              TEXT PRIMARY KEY,
    idea_id         TEXT NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    author_id       TEXT NOT NULL,
    author_name     TEXT NOT NULL,
    body            TEXT NOT NULL,
    hidden_category TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL
);
CREATE INDEX idea_comments_idea ON idea_comments (idea_id, created_at, id);
CREATE INDEX idea_comments_author ON idea_comments (author_id);

CREATE TABLE idea_supports (
    idea_id    TEXT NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (idea_id, user_id)
);
CREATE INDEX idea_supports_user ON idea_supports (user_id);

-- A resident's report of an idea or a comment; one per person and item.
CREATE TABLE moderation_reports (
    id              TEXT PRIMARY KEY,
    consultation_id TEXT NOT NULL,
    target_kind     TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    reporter_id     TEXT NOT NULL,
    category        TEXT NOT NULL,
    body            TEXT NOT NULL,
    -- open, then hidden (the item was hidden) or kept (a moderator kept it).
    state           TEXT NOT NULL DEFAULT 'open',
    handled_by      TEXT NOT NULL DEFAULT '',
    handled_at      BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    UNIQUE (target_kind, target_id, reporter_id)
);
CREATE INDEX moderation_reports_queue ON moderation_reports (state, created_at, id);

-- A moderator's hiding of an item, the author's one appeal and its decision.
CREATE TABLE moderation_cases (
    id              TEXT PRIMARY KEY,
    consultation_id TEXT NOT NULL,
    target_kind     TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    author_id       TEXT NOT NULL,
    category        TEXT NOT NULL,
    -- The moderator's words to the author; never public.
    note            TEXT NOT NULL,
    hidden_by       TEXT NOT NULL,
    hidden_at       BIGINT NOT NULL,
    appeal          TEXT NOT NULL DEFAULT '',
    appealed_at     BIGINT NOT NULL DEFAULT 0,
    -- '' until decided, then upheld or restored.
    decision        TEXT NOT NULL DEFAULT '',
    decision_note   TEXT NOT NULL DEFAULT '',
    decided_by      TEXT NOT NULL DEFAULT '',
    decided_at      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX moderation_cases_target ON moderation_cases (target_kind, target_id, hidden_at);
CREATE INDEX moderation_cases_appeals ON moderation_cases (appealed_at, decision);
CREATE INDEX moderation_cases_author ON moderation_cases (author_id);

-- Fixed windows of a person's writes (ideas a day, comments a minute, reports an
-- hour): one row per person, action and window, counted up in the transaction of the
-- write, so two requests at once cannot both slip under the limit.
CREATE TABLE idea_rate_windows (
    user_id      TEXT NOT NULL,
    action       TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (user_id, action, window_start)
);
