-- One time encoding in every plugin store (issue 15): instants become BIGINT Unix
-- microseconds, UTC, in place of TEXT "YYYY-MM-DDTHH:MM:SSZ". The text is read as a
-- timestamptz, so a fraction of a second, if a row has one, is kept to the microsecond.
-- applications.waitlisted_at was '' until a volunteer was wait-listed; it becomes NULL.

ALTER TABLE skills
    ALTER COLUMN updated_at TYPE BIGINT USING (EXTRACT(EPOCH FROM updated_at::timestamptz) * 1000000)::BIGINT;

ALTER TABLE profiles
    ALTER COLUMN created_at TYPE BIGINT USING (EXTRACT(EPOCH FROM created_at::timestamptz) * 1000000)::BIGINT,
    ALTER COLUMN updated_at TYPE BIGINT USING (EXTRACT(EPOCH FROM updated_at::timestamptz) * 1000000)::BIGINT;

ALTER TABLE opportunities
    ALTER COLUMN created_at TYPE BIGINT USING (EXTRACT(EPOCH FROM created_at::timestamptz) * 1000000)::BIGINT,
    ALTER COLUMN updated_at TYPE BIGINT USING (EXTRACT(EPOCH FROM updated_at::timestamptz) * 1000000)::BIGINT;

ALTER TABLE shifts
    ALTER COLUMN starts_at TYPE BIGINT USING (EXTRACT(EPOCH FROM starts_at::timestamptz) * 1000000)::BIGINT,
    ALTER COLUMN ends_at TYPE BIGINT USING (EXTRACT(EPOCH FROM ends_at::timestamptz) * 1000000)::BIGINT;

ALTER TABLE applications
    ALTER COLUMN created_at TYPE BIGINT USING (EXTRACT(EPOCH FROM created_at::timestamptz) * 1000000)::BIGINT,
    ALTER COLUMN updated_at TYPE BIGINT USING (EXTRACT(EPOCH FROM updated_at::timestamptz) * 1000000)::BIGINT;

ALTER TABLE applications ALTER COLUMN waitlisted_at DROP DEFAULT;
ALTER TABLE applications ALTER COLUMN waitlisted_at DROP NOT NULL;
ALTER TABLE applications ALTER COLUMN waitlisted_at TYPE BIGINT
    USING CASE WHEN waitlisted_at = '' THEN NULL ELSE (EXTRACT(EPOCH FROM waitlisted_at::timestamptz) * 1000000)::BIGINT END;
