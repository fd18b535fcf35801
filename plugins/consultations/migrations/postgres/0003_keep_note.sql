-- A moderator's note on keeping a reported item is kept with the reports it closed,
-- for moderators; the audit log, which more people read, records only that it was kept.
ALTER TABLE moderation_reports ADD COLUMN note TEXT NOT NULL DEFAULT '';
