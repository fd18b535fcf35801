-- Operators' actions on plugins (issue 3): enable, disable and restart go through one
-- node's admin API but must hold on every node, and enable or disable across restarts.
-- Each node applies the rows after the last one it has seen; at start it takes the
-- latest enable or disable of each plugin as what the operator wants.
CREATE TABLE plugin_commands (
    seq        BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL,
    action     TEXT NOT NULL CHECK (action IN ('enable', 'disable', 'restart')),
    created_at TIMESTAMPTZ NOT NULL
);
