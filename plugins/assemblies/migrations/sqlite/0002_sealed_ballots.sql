-- Secret ballots are sealed while the vote is open (DESIGN.md §13). The voter mark and
-- the ballot are written in one transaction, so anyone who reads the store, a dump or
-- its WAL can pair them; what they pair the voter with is the choice encrypted to the
-- vote's key, padded to one size, and no database holds that key. The row is keyed by
-- the voter so that a ballot can be changed before the close.
CREATE TABLE sealed_ballots (
    motion_id TEXT NOT NULL REFERENCES motions (id),
    user_id   TEXT NOT NULL,
    sealed    BLOB NOT NULL,
    PRIMARY KEY (motion_id, user_id)
);

-- Secret ballots after the close: the choices only, opened by the host, shuffled and
-- written together in the close's transaction (when the sealed rows are deleted), so
-- neither their order nor their transaction says anything about who cast them. The
-- tally is recounted from these rows. (Votes opened before this migration keep their
-- counters in secret_tally; the close adds both.)
CREATE TABLE secret_ballots (
    motion_id TEXT NOT NULL REFERENCES motions (id),
    choice    TEXT NOT NULL
);
CREATE INDEX secret_ballots_motion ON secret_ballots (motion_id);
