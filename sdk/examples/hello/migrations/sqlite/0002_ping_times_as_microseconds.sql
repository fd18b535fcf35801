-- pings.at becomes BIGINT Unix microseconds, UTC: the one time encoding of Kvarter's
-- plugin stores (issue 15). 0001 kept it as TEXT in Go's RFC 3339 format with
-- nanoseconds, always in UTC: "2006-01-02T15:04:05.999999999Z", trailing zeros of the
-- fraction dropped, no fraction at all on a whole second. This converts it: the whole
-- seconds through the database's calendar, the microseconds from the digits (digits
-- past the sixth are dropped, as the SDK drops them when writing a time). A value in
-- any other format stops the migration, which then changes nothing, rather than being
-- guessed at.
--
-- SQLite cannot change a column's type: the time gets a new INTEGER column, filled from
-- the old one, which is dropped and whose name the new one takes. It is NOT NULL
-- DEFAULT 0 because SQLite adds a NOT NULL column only with a default; every insert
-- gives the time.

-- Stop at the first value not in the format, or not a real time (SQLite's calendar
-- would move 2026-02-30 on), naming it.
CREATE TEMP TABLE bad_time (value TEXT NOT NULL);
CREATE TEMP TRIGGER bad_time_stops BEFORE INSERT ON bad_time BEGIN
    SELECT RAISE(ABORT, 'pings.at holds ' || quote(NEW.value) || ', which is not a time in the format 2006-01-02T15:04:05.999999999Z');
END;
INSERT INTO temp.bad_time (value)
SELECT at FROM pings
WHERE NOT (
    (at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'
        OR (at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].?*Z'
            AND length(at) <= 30
            AND substr(at, 21, length(at) - 21) NOT GLOB '*[^0-9]*'))
    AND strftime('%Y-%m-%dT%H:%M:%S', substr(at, 1, 19)) IS substr(at, 1, 19));
DROP TABLE temp.bad_time;

ALTER TABLE pings ADD COLUMN at_us INTEGER NOT NULL DEFAULT 0;
UPDATE pings SET at_us = CAST(strftime('%s', substr(at, 1, 19)) AS INTEGER) * 1000000
    + CASE WHEN length(at) > 20 THEN CAST(substr(substr(at, 21, length(at) - 21) || '00000', 1, 6) AS INTEGER) ELSE 0 END;
ALTER TABLE pings DROP COLUMN at;
ALTER TABLE pings RENAME COLUMN at_us TO at;
