-- The SDK's transactional outbox (sdk/store): a plugin's events, written by Tx.Emit in
-- the transaction of the change they announce, handed to the host after commit and
-- deleted once it took them. The id collates bytewise so that ORDER BY id is the
-- order ids were made in, whatever the database's collation.
CREATE TABLE kvarter_outbox (
    id          TEXT COLLATE "C" PRIMARY KEY,  -- a UUIDv7: the event id, and the delivery order
    type        TEXT NOT NULL,
    payload     TEXT NOT NULL,                 -- JSON
    occurred_at BIGINT NOT NULL                -- Unix microseconds, UTC
);
