-- pings.at becomes BIGINT Unix microseconds, UTC: the one time encoding of Kvarter's
-- plugin stores (issue 15). 0001 kept it as TEXT in Go's RFC 3339 format with
-- nanoseconds, always in UTC: "2006-01-02T15:04:05.999999999Z", trailing zeros of the
-- fraction dropped, no fraction at all on a whole second. This converts it: the whole
-- seconds through the database's calendar, the microseconds from the digits (digits
-- past the sixth are dropped, as the SDK drops them when writing a time). A value in
-- any other format stops the migration, which then changes nothing, rather than being
-- guessed at.

-- pg_temp.micros converts one value, or stops the migration at one it cannot: a value
-- not in the format, or not a real time (the calendar would move 2026-02-30 on).
CREATE FUNCTION pg_temp.micros(v TEXT) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    ts TIMESTAMPTZ;
BEGIN
    IF v ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$' THEN
        BEGIN
            ts := CAST(substr(v, 1, 19) || 'Z' AS TIMESTAMPTZ);
        EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
            ts := NULL;
        END;
    END IF;
    IF ts IS NULL OR to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') <> substr(v, 1, 19) THEN
        RAISE EXCEPTION 'pings.at holds %, which is not a time in the format 2006-01-02T15:04:05.999999999Z', quote_literal(v);
    END IF;
    -- rpad pads the fraction to six digits and cuts it there.
    RETURN CAST(EXTRACT(EPOCH FROM ts) AS BIGINT) * 1000000
        + CASE WHEN length(v) > 20 THEN CAST(rpad(substr(v, 21, length(v) - 21), 6, '0') AS BIGINT) ELSE 0 END;
END
$$;

ALTER TABLE pings ALTER COLUMN at TYPE BIGINT USING pg_temp.micros(at);
