-- Events now leave through the SDK's transactional outbox (kvarter_outbox, which the
-- SDK creates before the plugin's migrations run). The events still waiting in the
-- plugin's own outbox move there with their IDs, which are the event IDs and give the
-- delivery order, so none is lost or sent twice; then the old table goes.
INSERT INTO kvarter_outbox (id, type, payload, occurred_at)
    SELECT id, type, payload, occurred_at FROM outbox
    ON CONFLICT (id) DO NOTHING;
DROP TABLE outbox;
