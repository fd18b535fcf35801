package volunteers

// sqliteDialect needs no row locks: the store's DSN begins transactions IMMEDIATE, so a
// writing transaction holds the database's single write lock from its first statement.
// It queues this process's writers on a mutex: SQLite admits one writer at a time
// anyway, and waiting on a mutex hands the lock over at once, where waiting on the busy
// timeout sleeps and retries, which made 100 concurrent sign-ups take seconds.
var sqliteDialect = dialect{queueWriters: true}
