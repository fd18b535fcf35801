-- Every time in the store becomes BIGINT Unix microseconds UTC, the one encoding of
-- every Kvarter plugin (issue 15). Until now times were fixed-width text written by Go
-- as "2006-01-02T15:04:05.000000000Z" (always UTC, always 30 characters), so each
-- converts as its whole seconds (the first 19 characters read as UTC) times a million
-- plus the first six digits of its fraction: nanoseconds are truncated to
-- microseconds, as Go's time.UnixMicro truncates (a cast of the whole text to
-- timestamptz would round them instead, and differ from SQLite). NULL stays NULL. The
-- phase schedule, a JSON object of phase to time, gets microseconds as its values the
-- same way. Indexes on the converted columns are rebuilt by ALTER ... TYPE.

ALTER TABLE cycles
    ALTER COLUMN next_at TYPE BIGINT USING
        extract(epoch FROM (substr(next_at, 1, 19) || '+00')::timestamptz)::bigint * 1000000 + substr(next_at, 21, 6)::bigint,
    ALTER COLUMN created_at TYPE BIGINT USING
        extract(epoch FROM (substr(created_at, 1, 19) || '+00')::timestamptz)::bigint * 1000000 + substr(created_at, 21, 6)::bigint,
    ALTER COLUMN updated_at TYPE BIGINT USING
        extract(epoch FROM (substr(updated_at, 1, 19) || '+00')::timestamptz)::bigint * 1000000 + substr(updated_at, 21, 6)::bigint;
UPDATE cycles SET schedule = (
    SELECT COALESCE(jsonb_object_agg(key,
               extract(epoch FROM (substr(value, 1, 19) || '+00')::timestamptz)::bigint * 1000000 + substr(value, 21, 6)::bigint),
           '{}'::jsonb)::text
    FROM jsonb_each_text(cycles.schedule::jsonb));

ALTER TABLE proposals
    ALTER COLUMN created_at TYPE BIGINT USING
        extract(epoch FROM (substr(created_at, 1, 19) || '+00')::timestamptz)::bigint * 1000000 + substr(created_at, 21, 6)::bigint,
    ALTER COLUMN updated_at TYPE BIGINT USING
        extract(epoch FROM (substr(updated_at, 1, 19) || '+00')::timestamptz)::bigint * 1000000 + substr(updated_at, 21, 6)::bigint;

ALTER TABLE project_updates
    ALTER COLUMN at TYPE BIGINT USING
        extract(epoch FROM (substr(at, 1, 19) || '+00')::timestamptz)::bigint * 1000000 + substr(at, 21, 6)::bigint;

ALTER TABLE results
    ALTER COLUMN published_at TYPE BIGINT USING
        extract(epoch FROM (substr(published_at, 1, 19) || '+00')::timestamptz)::bigint * 1000000 + substr(published_at, 21, 6)::bigint;
