-- Issue 19. A tally is first a private preview (several rules side by side) that an
-- officer publishes or runs again; it is kept here, apart from results, so nothing
-- public can read it. Entering paper ballots deletes it: a preview is of the ballots
-- it counted.
CREATE TABLE result_previews (
    cycle_id    TEXT PRIMARY KEY REFERENCES cycles (id),
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- The country (a Pabulib export's obligatory country) and when voting opened and
-- closed (its date_begin and date_end), in Unix microseconds UTC; NULL until it did.
ALTER TABLE cycles ADD COLUMN country TEXT NOT NULL DEFAULT '';
ALTER TABLE cycles ADD COLUMN voting_began BIGINT;
ALTER TABLE cycles ADD COLUMN voting_ended BIGINT;
