-- Every time in the store becomes BIGINT Unix microseconds UTC, the one encoding of
-- every Kvarter plugin (issue 15). Until now times were fixed-width text written by Go
-- as "2006-01-02T15:04:05.000000000Z" (always UTC, always 30 characters), so each
-- converts as its whole seconds (strftime('%s') of the first 19 characters) times a
-- million plus the first six digits of its fraction: nanoseconds are truncated to
-- microseconds, as Go's time.UnixMicro truncates. NULL stays NULL. The phase schedule,
-- a JSON object of phase to time, gets microseconds as its values the same way.
--
-- SQLite cannot change a column's type: each column is added anew, filled, the old one
-- dropped (after the indexes that name it) and the new one renamed. A NOT NULL column
-- added to a table with rows needs a default; 0 is never written by the plugin, which
-- names every time column in its INSERTs.

DROP INDEX cycles_next_at;
ALTER TABLE cycles ADD COLUMN next_at_us BIGINT;
ALTER TABLE cycles ADD COLUMN created_at_us BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cycles ADD COLUMN updated_at_us BIGINT NOT NULL DEFAULT 0;
UPDATE cycles SET
    next_at_us    = CAST(strftime('%s', substr(next_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(next_at, 21, 6) AS INTEGER),
    created_at_us = CAST(strftime('%s', substr(created_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(created_at, 21, 6) AS INTEGER),
    updated_at_us = CAST(strftime('%s', substr(updated_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(updated_at, 21, 6) AS INTEGER),
    schedule      = (SELECT json_group_object(key,
                        CAST(strftime('%s', substr(value, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(value, 21, 6) AS INTEGER))
                     FROM json_each(cycles.schedule));
ALTER TABLE cycles DROP COLUMN next_at;
ALTER TABLE cycles DROP COLUMN created_at;
ALTER TABLE cycles DROP COLUMN updated_at;
ALTER TABLE cycles RENAME COLUMN next_at_us TO next_at;
ALTER TABLE cycles RENAME COLUMN created_at_us TO created_at;
ALTER TABLE cycles RENAME COLUMN updated_at_us TO updated_at;
CREATE INDEX cycles_next_at ON cycles (next_at);

ALTER TABLE proposals ADD COLUMN created_at_us BIGINT NOT NULL DEFAULT 0;
ALTER TABLE proposals ADD COLUMN updated_at_us BIGINT NOT NULL DEFAULT 0;
UPDATE proposals SET
    created_at_us = CAST(strftime('%s', substr(created_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(created_at, 21, 6) AS INTEGER),
    updated_at_us = CAST(strftime('%s', substr(updated_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(updated_at, 21, 6) AS INTEGER);
ALTER TABLE proposals DROP COLUMN created_at;
ALTER TABLE proposals DROP COLUMN updated_at;
ALTER TABLE proposals RENAME COLUMN created_at_us TO created_at;
ALTER TABLE proposals RENAME COLUMN updated_at_us TO updated_at;

DROP INDEX project_updates_proposal;
ALTER TABLE project_updates ADD COLUMN at_us BIGINT NOT NULL DEFAULT 0;
UPDATE project_updates SET
    at_us = CAST(strftime('%s', substr(at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(at, 21, 6) AS INTEGER);
ALTER TABLE project_updates DROP COLUMN at;
ALTER TABLE project_updates RENAME COLUMN at_us TO at;
CREATE INDEX project_updates_proposal ON project_updates (proposal_id, at);

ALTER TABLE results ADD COLUMN published_at_us BIGINT NOT NULL DEFAULT 0;
UPDATE results SET
    published_at_us = CAST(strftime('%s', substr(published_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(published_at, 21, 6) AS INTEGER);
ALTER TABLE results DROP COLUMN published_at;
ALTER TABLE results RENAME COLUMN published_at_us TO published_at;
