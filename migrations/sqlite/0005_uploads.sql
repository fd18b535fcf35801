-- Files people send through plugins' forms (issue 16, DESIGN.md §10 "Uploads"): photos
-- of proposals and events, park plans, attachments of consultations. The plugin host
-- receives and checks them and keeps them here; the plugin holds the id only. The id
-- is random (UUIDv4): holding it is what lets one read the file. Erasing a person's
-- account deletes what they uploaded.
CREATE TABLE uploads (
    id           TEXT PRIMARY KEY,
    plugin       TEXT NOT NULL,
    uploader_id  TEXT REFERENCES users(id) ON DELETE CASCADE,
    content_type TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'application/pdf')),
    file_name    TEXT NOT NULL,
    size         INTEGER NOT NULL CHECK (size >= 0),
    sha256       TEXT NOT NULL,
    data         BLOB NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX uploads_uploader ON uploads (uploader_id);
