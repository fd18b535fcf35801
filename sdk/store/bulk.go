package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// InsertRows inserts n rows into table, in the transaction tx, in the order 0..n-1:
// row(i, values) fills values, one per column, for row i. It is for the rare write of
// many rows at once (a close writing 100,000 opened ballots), where one statement per
// row would cost a round trip each: on PostgreSQL the rows stream through one COPY, on
// SQLite they go in multi-row INSERTs of as many rows as SQLite's limit on variables
// allows, prepared once. table and columns are SQL identifiers the caller writes, never
// input.
func InsertRows(ctx context.Context, tx *sqlx.Tx, table string, columns []string, n int, row func(i int, values []any)) error {
	if n == 0 {
		return nil
	}
	if tx.DriverName() == "postgres" {
		return copyRows(ctx, tx, table, columns, n, row)
	}
	return insertRowsValues(ctx, tx, table, columns, n, row)
}

// sqliteMaxVariables is SQLite's limit on the variables of one statement
// (SQLITE_MAX_VARIABLE_NUMBER, 32766 since 3.32).
const sqliteMaxVariables = 32766

// maxRowsPerInsert bounds the rows of one INSERT: past a few hundred a larger statement
// saves nothing measurable and only holds more arguments in memory at once.
const maxRowsPerInsert = 500

// insertRowsValues writes the rows in INSERT ... VALUES (...), (...) statements. The
// full-size statement is prepared once and run for every full batch; the remainder
// runs once, unprepared.
func insertRowsValues(ctx context.Context, tx *sqlx.Tx, table string, columns []string, n int, row func(i int, values []any)) error {
	perRow := len(columns)
	perStatement := min(maxRowsPerInsert, sqliteMaxVariables/perRow, n)
	query := func(rows int) string {
		tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", perRow), ", ") + ")"
		return tx.Rebind("INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES " +
			strings.TrimSuffix(strings.Repeat(tuple+", ", rows), ", "))
	}
	full, err := tx.PreparexContext(ctx, query(perStatement))
	if err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	defer full.Close()
	args := make([]any, perRow*perStatement)
	for start := 0; start < n; start += perStatement {
		rows := min(perStatement, n-start)
		for i := range rows {
			row(start+i, args[i*perRow:(i+1)*perRow])
		}
		if rows == perStatement {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, query(rows), args[:rows*perRow]...)
		}
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}
