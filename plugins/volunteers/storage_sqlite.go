package volunteers

// sqliteDialect needs no row locks: SQLite admits one writer, and store.DB.InTx takes
// the write lock when a transaction begins, so a writing transaction holds it from its
// first statement.
var sqliteDialect = dialect{}
