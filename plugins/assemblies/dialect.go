package assemblies

import "github.com/kvarter/kvarter/sdk"

// lockClause is the only dialect-specific SQL of the plugin. On PostgreSQL a ballot
// takes a share lock on its motion row and the close takes an exclusive one, so a
// ballot either commits before the close counts or sees the vote closed. SQLite needs
// none: the store begins every transaction IMMEDIATE, which serialises writers.
func lockClause(dialect string, exclusive bool) string {
	if dialect != sdk.DialectPostgres {
		return ""
	}
	if exclusive {
		return " FOR UPDATE"
	}
	return " FOR SHARE"
}
