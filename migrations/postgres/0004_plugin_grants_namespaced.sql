-- A plugin may only bundle its own namespaced permissions with roles (issue 12 item 3).
-- Rows a plugin stored before the host checked that — say `core.membership.decide` for
-- `resident` from a third-party plugin — would otherwise stay in force, so they go.
-- substr, not LIKE: `_` in a plugin name would be a LIKE wildcard.
DELETE FROM role_permissions
WHERE source <> 'core'
  AND substr(permission, 1, length(source) + 1) <> source || '.';
