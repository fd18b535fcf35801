-- Events now go through the SDK's transactional outbox (kvarter_outbox, created by the
-- SDK's own migration before this one runs): the plugin's outbox hands over the events
-- it still holds, with their ids (so the host, which records an id once, never takes
-- one twice) and their times (BIGINT microseconds since 0003), and goes.
INSERT INTO kvarter_outbox (id, type, payload, occurred_at)
SELECT id, type, payload, at FROM outbox;
DROP TABLE outbox;
