-- Issue 19: photos and PDF documents on proposals and on implementation updates. The
-- host keeps the file (an upload); a row here says where it belongs and what it shows.
-- update_id is set for an update's photo. added_by is who sent it, so that erasing
-- their account (which deletes their uploads in the core) removes the row too.
CREATE TABLE attachments (
    id          TEXT PRIMARY KEY,
    proposal_id TEXT NOT NULL REFERENCES proposals (id),
    update_id   TEXT REFERENCES project_updates (id),
    upload_id   TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL,
    added_by    TEXT,
    added_at    BIGINT NOT NULL
);
CREATE INDEX attachments_proposal ON attachments (proposal_id, added_at);
