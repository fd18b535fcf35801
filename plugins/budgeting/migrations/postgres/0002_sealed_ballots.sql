-- Online ballots are sealed while voting is open (DESIGN.md §13). The voter row and
-- the ballot are written in one transaction, so anyone who reads the store, a dump or
-- its WAL can pair them; what they pair the voter with is the ballot encrypted to the
-- cycle's key, padded to one size per cycle, and no database holds that key. A random
-- (v4) id; token_hash is the sha256 of the replacement token only the voter holds
-- (when ballots are replaceable). When voting closes the host opens them, and they
-- move, shuffled and in one transaction, to ballots; these rows are deleted.
CREATE TABLE sealed_ballots (
    id         TEXT PRIMARY KEY,
    cycle_id   TEXT NOT NULL REFERENCES cycles (id),
    token_hash TEXT UNIQUE,
    sealed     BYTEA NOT NULL
);
CREATE INDEX sealed_ballots_cycle ON sealed_ballots (cycle_id);
