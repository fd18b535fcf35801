package volunteers

// postgresDialect locks rows with FOR UPDATE: concurrent transactions on one shift or one
// volunteer queue on the row lock, so capacity and weekly limits are checked on a view no
// other booking can change before commit. Writers need no queue of their own; store.Open
// bounds the pool.
var postgresDialect = dialect{lockRow: " FOR UPDATE"}
