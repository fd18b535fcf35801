-- The reminders sent the day before a shift: one row per volunteer and shift at the
-- time the shift was to start, so a shift moved to another time is reminded of again.
-- The scheduler inserts the row in the transaction that writes the reminder into the
-- outbox; the primary key lets only one of several plugin processes (or one process
-- before and after a restart) send it.
CREATE TABLE shift_reminders (
    shift_id     TEXT NOT NULL REFERENCES shifts (id) ON DELETE CASCADE,
    volunteer_id TEXT NOT NULL,
    starts_at    BIGINT NOT NULL,
    sent_at      BIGINT NOT NULL,
    PRIMARY KEY (shift_id, volunteer_id, starts_at)
);
CREATE INDEX shift_reminders_volunteer ON shift_reminders (volunteer_id);

-- The scheduler looks for shifts starting within the next two days.
CREATE INDEX shifts_starts_at ON shifts (starts_at);
