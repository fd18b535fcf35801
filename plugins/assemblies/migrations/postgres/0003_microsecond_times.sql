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

-- pg_temp.micros converts one value ('' is NULL where the time is optional), or stops
-- the migration at one it cannot: a value not in the format, or not a real time (the
-- calendar would move 2026-02-30 on).
CREATE FUNCTION pg_temp.micros(v TEXT, col TEXT, optional BOOLEAN) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    ts TIMESTAMPTZ;
BEGIN
    IF v = '' AND optional THEN
        RETURN NULL;
    END IF;
    IF v ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$' THEN
        BEGIN
            ts := CAST(substr(v, 1, 19) || 'Z' AS TIMESTAMPTZ);
        EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
            ts := NULL;
        END;
    END IF;
    IF ts IS NULL OR to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') <> substr(v, 1, 19) THEN
        RAISE EXCEPTION '% holds %, which is not a time in the format 2006-01-02T15:04:05.000000Z', col, quote_literal(v);
    END IF;
    RETURN CAST(EXTRACT(EPOCH FROM ts) AS BIGINT) * 1000000 + CAST(substr(v, 21, 6) AS BIGINT);
END $$;

DROP INDEX assemblies_nbh;
DROP INDEX meetings_assembly;
DROP INDEX motions_assembly;

-- One ALTER TABLE per table, so that each is rewritten once.
ALTER TABLE assemblies
    ALTER COLUMN created_at TYPE BIGINT USING pg_temp.micros(created_at, 'assemblies.created_at', FALSE);

ALTER TABLE members
    ALTER COLUMN term_start DROP DEFAULT, ALTER COLUMN term_start DROP NOT NULL,
    ALTER COLUMN term_end DROP DEFAULT, ALTER COLUMN term_end DROP NOT NULL,
    ALTER COLUMN joined_at DROP DEFAULT, ALTER COLUMN joined_at DROP NOT NULL,
    ALTER COLUMN ended_at DROP DEFAULT, ALTER COLUMN ended_at DROP NOT NULL;
ALTER TABLE members
    ALTER COLUMN term_start TYPE BIGINT USING pg_temp.micros(term_start, 'members.term_start', TRUE),
    ALTER COLUMN term_end TYPE BIGINT USING pg_temp.micros(term_end, 'members.term_end', TRUE),
    ALTER COLUMN applied_at TYPE BIGINT USING pg_temp.micros(applied_at, 'members.applied_at', FALSE),
    ALTER COLUMN joined_at TYPE BIGINT USING pg_temp.micros(joined_at, 'members.joined_at', TRUE),
    ALTER COLUMN ended_at TYPE BIGINT USING pg_temp.micros(ended_at, 'members.ended_at', TRUE);

ALTER TABLE meetings
    ALTER COLUMN starts_at TYPE BIGINT USING pg_temp.micros(starts_at, 'meetings.starts_at', FALSE),
    ALTER COLUMN ends_at TYPE BIGINT USING pg_temp.micros(ends_at, 'meetings.ends_at', FALSE),
    ALTER COLUMN created_at TYPE BIGINT USING pg_temp.micros(created_at, 'meetings.created_at', FALSE),
    ALTER COLUMN updated_at TYPE BIGINT USING pg_temp.micros(updated_at, 'meetings.updated_at', FALSE);

ALTER TABLE motions
    ALTER COLUMN advice_due_at DROP DEFAULT, ALTER COLUMN advice_due_at DROP NOT NULL,
    ALTER COLUMN vote_opened_at DROP DEFAULT, ALTER COLUMN vote_opened_at DROP NOT NULL,
    ALTER COLUMN vote_closed_at DROP DEFAULT, ALTER COLUMN vote_closed_at DROP NOT NULL,
    ALTER COLUMN answer_due_at DROP DEFAULT, ALTER COLUMN answer_due_at DROP NOT NULL,
    ALTER COLUMN answered_at DROP DEFAULT, ALTER COLUMN answered_at DROP NOT NULL;
ALTER TABLE motions
    ALTER COLUMN advice_due_at TYPE BIGINT USING pg_temp.micros(advice_due_at, 'motions.advice_due_at', TRUE),
    ALTER COLUMN vote_opened_at TYPE BIGINT USING pg_temp.micros(vote_opened_at, 'motions.vote_opened_at', TRUE),
    ALTER COLUMN vote_closed_at TYPE BIGINT USING pg_temp.micros(vote_closed_at, 'motions.vote_closed_at', TRUE),
    ALTER COLUMN answer_due_at TYPE BIGINT USING pg_temp.micros(answer_due_at, 'motions.answer_due_at', TRUE),
    ALTER COLUMN answered_at TYPE BIGINT USING pg_temp.micros(answered_at, 'motions.answered_at', TRUE),
    ALTER COLUMN created_at TYPE BIGINT USING pg_temp.micros(created_at, 'motions.created_at', FALSE),
    ALTER COLUMN updated_at TYPE BIGINT USING pg_temp.micros(updated_at, 'motions.updated_at', FALSE);

ALTER TABLE timeline
    ALTER COLUMN at TYPE BIGINT USING pg_temp.micros(at, 'timeline.at', FALSE);

ALTER TABLE outbox
    ALTER COLUMN at TYPE BIGINT USING pg_temp.micros(at, 'outbox.at', FALSE);

DROP FUNCTION pg_temp.micros(TEXT, TEXT, BOOLEAN);

CREATE INDEX assemblies_nbh ON assemblies (neighbourhood_id, created_at, id);
CREATE INDEX assemblies_created ON assemblies (created_at, id);
CREATE INDEX members_applied ON members (assembly_id, applied_at, user_id);
CREATE INDEX meetings_assembly ON meetings (assembly_id, starts_at, id);
CREATE INDEX motions_assembly ON motions (assembly_id, created_at, id);
