-- One time encoding in every plugin store (issue 15): instants become BIGINT Unix
-- microseconds, UTC, in place of TEXT "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (the plugin wrote
-- whole seconds; a fraction, if a row has one, is kept to the microsecond).
-- applications.waitlisted_at was '' until a volunteer was wait-listed; it becomes NULL.
--
-- Tables without constraints on their times convert in place: add a column, fill it,
-- drop the old one, rename. shifts cannot: its CHECK (ends_at > starts_at) names both
-- columns, and SQLite refuses to drop a column a CHECK names. It is rebuilt, and
-- applications with it, because dropping shifts while applications refers to it would
-- cascade-delete every application (foreign keys are on, and a migration runs inside a
-- transaction, where they cannot be switched off).

ALTER TABLE skills ADD COLUMN updated_at_us BIGINT NOT NULL DEFAULT 0;
UPDATE skills SET updated_at_us = CAST(strftime('%s', substr(updated_at, 1, 19)) AS INTEGER) * 1000000
        + CASE WHEN substr(updated_at, 20, 1) = '.'
            THEN CAST(substr(substr(updated_at, 21, length(updated_at) - 21) || '000000', 1, 6) AS INTEGER) ELSE 0 END;
ALTER TABLE skills DROP COLUMN updated_at;
ALTER TABLE skills RENAME COLUMN updated_at_us TO updated_at;

ALTER TABLE profiles ADD COLUMN created_at_us BIGINT NOT NULL DEFAULT 0;
ALTER TABLE profiles ADD COLUMN updated_at_us BIGINT NOT NULL DEFAULT 0;
UPDATE profiles SET created_at_us = CAST(strftime('%s', substr(created_at, 1, 19)) AS INTEGER) * 1000000
        + CASE WHEN substr(created_at, 20, 1) = '.'
            THEN CAST(substr(substr(created_at, 21, length(created_at) - 21) || '000000', 1, 6) AS INTEGER) ELSE 0 END,
    updated_at_us = CAST(strftime('%s', substr(updated_at, 1, 19)) AS INTEGER) * 1000000
        + CASE WHEN substr(updated_at, 20, 1) = '.'
            THEN CAST(substr(substr(updated_at, 21, length(updated_at) - 21) || '000000', 1, 6) AS INTEGER) ELSE 0 END;
ALTER TABLE profiles DROP COLUMN created_at;
ALTER TABLE profiles RENAME COLUMN created_at_us TO created_at;
ALTER TABLE profiles DROP COLUMN updated_at;
ALTER TABLE profiles RENAME COLUMN updated_at_us TO updated_at;

ALTER TABLE opportunities ADD COLUMN created_at_us BIGINT NOT NULL DEFAULT 0;
ALTER TABLE opportunities ADD COLUMN updated_at_us BIGINT NOT NULL DEFAULT 0;
UPDATE opportunities SET created_at_us = CAST(strftime('%s', substr(created_at, 1, 19)) AS INTEGER) * 1000000
        + CASE WHEN substr(created_at, 20, 1) = '.'
            THEN CAST(substr(substr(created_at, 21, length(created_at) - 21) || '000000', 1, 6) AS INTEGER) ELSE 0 END,
    updated_at_us = CAST(strftime('%s', substr(updated_at, 1, 19)) AS INTEGER) * 1000000
        + CASE WHEN substr(updated_at, 20, 1) = '.'
            THEN CAST(substr(substr(updated_at, 21, length(updated_at) - 21) || '000000', 1, 6) AS INTEGER) ELSE 0 END;
ALTER TABLE opportunities DROP COLUMN created_at;
ALTER TABLE opportunities RENAME COLUMN created_at_us TO created_at;
ALTER TABLE opportunities DROP COLUMN updated_at;
ALTER TABLE opportunities RENAME COLUMN updated_at_us TO updated_at;

CREATE TABLE shifts_new (
    id             TEXT PRIMARY KEY,
    opportunity_id TEXT NOT NULL REFERENCES opportunities (id) ON DELETE CASCADE,
    starts_at      BIGINT NOT NULL,
    ends_at        BIGINT NOT NULL,
    capacity       INTEGER NOT NULL CHECK (capacity >= 0),
    CHECK (ends_at > starts_at)
);
INSERT INTO shifts_new (id, opportunity_id, starts_at, ends_at, capacity)
SELECT id, opportunity_id,
    CAST(strftime('%s', substr(starts_at, 1, 19)) AS INTEGER) * 1000000
        + CASE WHEN substr(starts_at, 20, 1) = '.'
            THEN CAST(substr(substr(starts_at, 21, length(starts_at) - 21) || '000000', 1, 6) AS INTEGER) ELSE 0 END,
    CAST(strftime('%s', substr(ends_at, 1, 19)) AS INTEGER) * 1000000
        + CASE WHEN substr(ends_at, 20, 1) = '.'
            THEN CAST(substr(substr(ends_at, 21, length(ends_at) - 21) || '000000', 1, 6) AS INTEGER) ELSE 0 END,
    capacity
FROM shifts;

CREATE TABLE applications_new (
    id             TEXT PRIMARY KEY,
    shift_id       TEXT NOT NULL REFERENCES shifts_new (id) ON DELETE CASCADE,
    opportunity_id TEXT NOT NULL,
    volunteer_id   TEXT NOT NULL,
    status         TEXT NOT NULL,
    origin         TEXT NOT NULL,
    minutes        INTEGER NOT NULL DEFAULT 0,
    waitlisted_at  BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (shift_id, volunteer_id)
);
INSERT INTO applications_new (id, shift_id, opportunity_id, volunteer_id, status, origin, minutes,
    waitlisted_at, created_at, updated_at)
SELECT id, shift_id, opportunity_id, volunteer_id, status, origin, minutes,
    CASE WHEN waitlisted_at = '' THEN NULL ELSE CAST(strftime('%s', substr(waitlisted_at, 1, 19)) AS INTEGER) * 1000000
        + CASE WHEN substr(waitlisted_at, 20, 1) = '.'
            THEN CAST(substr(substr(waitlisted_at, 21, length(waitlisted_at) - 21) || '000000', 1, 6) AS INTEGER) ELSE 0 END END,
    CAST(strftime('%s', substr(created_at, 1, 19)) AS INTEGER) * 1000000
        + CASE WHEN substr(created_at, 20, 1) = '.'
            THEN CAST(substr(substr(created_at, 21, length(created_at) - 21) || '000000', 1, 6) AS INTEGER) ELSE 0 END,
    CAST(strftime('%s', substr(updated_at, 1, 19)) AS INTEGER) * 1000000
        + CASE WHEN substr(updated_at, 20, 1) = '.'
            THEN CAST(substr(substr(updated_at, 21, length(updated_at) - 21) || '000000', 1, 6) AS INTEGER) ELSE 0 END
FROM applications;

-- Nothing refers to the old tables any more, so dropping them deletes nothing else.
DROP TABLE applications;
DROP TABLE shifts;
-- Renaming rewrites applications' REFERENCES shifts_new to shifts.
ALTER TABLE shifts_new RENAME TO shifts;
ALTER TABLE applications_new RENAME TO applications;

CREATE INDEX shifts_opportunity ON shifts (opportunity_id, starts_at);
CREATE INDEX applications_shift ON applications (shift_id, status);
CREATE INDEX applications_volunteer ON applications (volunteer_id, status);
CREATE INDEX applications_opportunity ON applications (opportunity_id);
