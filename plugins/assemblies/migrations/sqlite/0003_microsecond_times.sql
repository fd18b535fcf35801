-- Every time becomes BIGINT Unix microseconds, UTC: the one time encoding of Kvarter's
-- plugin stores (issue 15). 0001 kept times as TEXT in one fixed-width format,
-- "2006-01-02T15:04:05.000000Z", with '' for "none"; this converts them exactly: the
-- whole seconds through the database's calendar, the microseconds from the digits.
-- Optional times that were '' become NULL. A stored value in any other format stops
-- the migration, which then changes nothing, rather than being guessed at.
--
-- The indexes on times are rebuilt ending in the row's key, so that every list can be
-- read a page at a time in a stable order (created_at, id), (starts_at, id),
-- (applied_at, user_id).
--
-- SQLite cannot change a column's type: each time gets a new INTEGER column, filled
-- from the old one, which is dropped (with the indexes on it first) and whose name the
-- new one takes. A required time is NOT NULL DEFAULT 0 because SQLite adds a NOT NULL
-- column only with a default; the plugin gives every time on insert.

-- Stop at the first value not in the format, or not a real time (SQLite's calendar
-- would move 2026-02-30 on), naming it.
CREATE TEMP TABLE bad_time (col TEXT NOT NULL, value TEXT NOT NULL);
CREATE TEMP TRIGGER bad_time_stops BEFORE INSERT ON bad_time BEGIN
    SELECT RAISE(ABORT, NEW.col || ' holds ' || quote(NEW.value) || ', which is not a time in the format 2006-01-02T15:04:05.000000Z');
END;
INSERT INTO temp.bad_time (col, value)
SELECT col, value FROM (
              SELECT 'assemblies.created_at' AS col, created_at AS value, 0 AS optional FROM assemblies
    UNION ALL SELECT 'members.term_start', term_start, 1 FROM members
    UNION ALL SELECT 'members.term_end', term_end, 1 FROM members
    UNION ALL SELECT 'members.applied_at', applied_at, 0 FROM members
    UNION ALL SELECT 'members.joined_at', joined_at, 1 FROM members
    UNION ALL SELECT 'members.ended_at', ended_at, 1 FROM members
    UNION ALL SELECT 'meetings.starts_at', starts_at, 0 FROM meetings
    UNION ALL SELECT 'meetings.ends_at', ends_at, 0 FROM meetings
    UNION ALL SELECT 'meetings.created_at', created_at, 0 FROM meetings
    UNION ALL SELECT 'meetings.updated_at', updated_at, 0 FROM meetings
    UNION ALL SELECT 'motions.advice_due_at', advice_due_at, 1 FROM motions
    UNION ALL SELECT 'motions.vote_opened_at', vote_opened_at, 1 FROM motions
    UNION ALL SELECT 'motions.vote_closed_at', vote_closed_at, 1 FROM motions
    UNION ALL SELECT 'motions.answer_due_at', answer_due_at, 1 FROM motions
    UNION ALL SELECT 'motions.answered_at', answered_at, 1 FROM motions
    UNION ALL SELECT 'motions.created_at', created_at, 0 FROM motions
    UNION ALL SELECT 'motions.updated_at', updated_at, 0 FROM motions
    UNION ALL SELECT 'timeline.at', at, 0 FROM timeline
    UNION ALL SELECT 'outbox.at', at, 0 FROM outbox
) times
WHERE NOT (optional = 1 AND value = '')
    AND (value NOT GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'
        OR strftime('%Y-%m-%dT%H:%M:%S', substr(value, 1, 19)) IS NOT substr(value, 1, 19));
DROP TABLE temp.bad_time;

DROP INDEX assemblies_nbh;
DROP INDEX meetings_assembly;
DROP INDEX motions_assembly;

ALTER TABLE assemblies ADD COLUMN created_at_us INTEGER NOT NULL DEFAULT 0;
UPDATE assemblies SET
    created_at_us = CAST(strftime('%s', substr(created_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(created_at, 21, 6) AS INTEGER);
ALTER TABLE assemblies DROP COLUMN created_at;
ALTER TABLE assemblies RENAME COLUMN created_at_us TO created_at;

ALTER TABLE members ADD COLUMN term_start_us INTEGER;
ALTER TABLE members ADD COLUMN term_end_us INTEGER;
ALTER TABLE members ADD COLUMN applied_at_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN joined_at_us INTEGER;
ALTER TABLE members ADD COLUMN ended_at_us INTEGER;
UPDATE members SET
    term_start_us = CASE WHEN term_start = '' THEN NULL ELSE CAST(strftime('%s', substr(term_start, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(term_start, 21, 6) AS INTEGER) END,
    term_end_us = CASE WHEN term_end = '' THEN NULL ELSE CAST(strftime('%s', substr(term_end, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(term_end, 21, 6) AS INTEGER) END,
    applied_at_us = CAST(strftime('%s', substr(applied_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(applied_at, 21, 6) AS INTEGER),
    joined_at_us = CASE WHEN joined_at = '' THEN NULL ELSE CAST(strftime('%s', substr(joined_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(joined_at, 21, 6) AS INTEGER) END,
    ended_at_us = CASE WHEN ended_at = '' THEN NULL ELSE CAST(strftime('%s', substr(ended_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(ended_at, 21, 6) AS INTEGER) END;
ALTER TABLE members DROP COLUMN term_start;
ALTER TABLE members RENAME COLUMN term_start_us TO term_start;
ALTER TABLE members DROP COLUMN term_end;
ALTER TABLE members RENAME COLUMN term_end_us TO term_end;
ALTER TABLE members DROP COLUMN applied_at;
ALTER TABLE members RENAME COLUMN applied_at_us TO applied_at;
ALTER TABLE members DROP COLUMN joined_at;
ALTER TABLE members RENAME COLUMN joined_at_us TO joined_at;
ALTER TABLE members DROP COLUMN ended_at;
ALTER TABLE members RENAME COLUMN ended_at_us TO ended_at;

ALTER TABLE meetings ADD COLUMN starts_at_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE meetings ADD COLUMN ends_at_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE meetings ADD COLUMN created_at_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE meetings ADD COLUMN updated_at_us INTEGER NOT NULL DEFAULT 0;
UPDATE meetings SET
    starts_at_us = CAST(strftime('%s', substr(starts_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(starts_at, 21, 6) AS INTEGER),
    ends_at_us = CAST(strftime('%s', substr(ends_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(ends_at, 21, 6) AS INTEGER),
    created_at_us = CAST(strftime('%s', substr(created_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(created_at, 21, 6) AS INTEGER),
    updated_at_us = CAST(strftime('%s', substr(updated_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(updated_at, 21, 6) AS INTEGER);
ALTER TABLE meetings DROP COLUMN starts_at;
ALTER TABLE meetings RENAME COLUMN starts_at_us TO starts_at;
ALTER TABLE meetings DROP COLUMN ends_at;
ALTER TABLE meetings RENAME COLUMN ends_at_us TO ends_at;
ALTER TABLE meetings DROP COLUMN created_at;
ALTER TABLE meetings RENAME COLUMN created_at_us TO created_at;
ALTER TABLE meetings DROP COLUMN updated_at;
ALTER TABLE meetings RENAME COLUMN updated_at_us TO updated_at;

ALTER TABLE motions ADD COLUMN advice_due_at_us INTEGER;
ALTER TABLE motions ADD COLUMN vote_opened_at_us INTEGER;
ALTER TABLE motions ADD COLUMN vote_closed_at_us INTEGER;
ALTER TABLE motions ADD COLUMN answer_due_at_us INTEGER;
ALTER TABLE motions ADD COLUMN answered_at_us INTEGER;
ALTER TABLE motions ADD COLUMN created_at_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE motions ADD COLUMN updated_at_us INTEGER NOT NULL DEFAULT 0;
UPDATE motions SET
    advice_due_at_us = CASE WHEN advice_due_at = '' THEN NULL ELSE CAST(strftime('%s', substr(advice_due_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(advice_due_at, 21, 6) AS INTEGER) END,
    vote_opened_at_us = CASE WHEN vote_opened_at = '' THEN NULL ELSE CAST(strftime('%s', substr(vote_opened_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(vote_opened_at, 21, 6) AS INTEGER) END,
    vote_closed_at_us = CASE WHEN vote_closed_at = '' THEN NULL ELSE CAST(strftime('%s', substr(vote_closed_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(vote_closed_at, 21, 6) AS INTEGER) END,
    answer_due_at_us = CASE WHEN answer_due_at = '' THEN NULL ELSE CAST(strftime('%s', substr(answer_due_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(answer_due_at, 21, 6) AS INTEGER) END,
    answered_at_us = CASE WHEN answered_at = '' THEN NULL ELSE CAST(strftime('%s', substr(answered_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(answered_at, 21, 6) AS INTEGER) END,
    created_at_us = CAST(strftime('%s', substr(created_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(created_at, 21, 6) AS INTEGER),
    updated_at_us = CAST(strftime('%s', substr(updated_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(updated_at, 21, 6) AS INTEGER);
ALTER TABLE motions DROP COLUMN advice_due_at;
ALTER TABLE motions RENAME COLUMN advice_due_at_us TO advice_due_at;
ALTER TABLE motions DROP COLUMN vote_opened_at;
ALTER TABLE motions RENAME COLUMN vote_opened_at_us TO vote_opened_at;
ALTER TABLE motions DROP COLUMN vote_closed_at;
ALTER TABLE motions RENAME COLUMN vote_closed_at_us TO vote_closed_at;
ALTER TABLE motions DROP COLUMN answer_due_at;
ALTER TABLE motions RENAME COLUMN answer_due_at_us TO answer_due_at;
ALTER TABLE motions DROP COLUMN answered_at;
ALTER TABLE motions RENAME COLUMN answered_at_us TO answered_at;
ALTER TABLE motions DROP COLUMN created_at;
ALTER TABLE motions RENAME COLUMN created_at_us TO created_at;
ALTER TABLE motions DROP COLUMN updated_at;
ALTER TABLE motions RENAME COLUMN updated_at_us TO updated_at;

ALTER TABLE timeline ADD COLUMN at_us INTEGER NOT NULL DEFAULT 0;
UPDATE timeline SET
    at_us = CAST(strftime('%s', substr(at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(at, 21, 6) AS INTEGER);
ALTER TABLE timeline DROP COLUMN at;
ALTER TABLE timeline RENAME COLUMN at_us TO at;

ALTER TABLE outbox ADD COLUMN at_us INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET
    at_us = CAST(strftime('%s', substr(at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(at, 21, 6) AS INTEGER);
ALTER TABLE outbox DROP COLUMN at;
ALTER TABLE outbox RENAME COLUMN at_us TO at;

CREATE INDEX assemblies_nbh ON assemblies (neighbourhood_id, created_at, id);
CREATE INDEX assemblies_created ON assemblies (created_at, id);
CREATE INDEX members_applied ON members (assembly_id, applied_at, user_id);
CREATE INDEX meetings_assembly ON meetings (assembly_id, starts_at, id);
CREATE INDEX motions_assembly ON motions (assembly_id, created_at, id);
