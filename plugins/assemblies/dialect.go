package assemblies

import "github.com/kvarter/kvarter/sdk"

// jsonElements is a table of the elements of a JSON array of strings, passed as one
// parameter, in a column named value.
func jsonElements(dialect string) string {
	if dialect == sdk.DialectPostgres {
		return "json_array_elements_text(CAST(? AS json))"
	}
	return "json_each(?)"
}

// lockClause is dialect-specific SQL too. On PostgreSQL a ballot
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
