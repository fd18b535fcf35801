package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/sdk"
)

// Records runs query and returns its rows as JSON-ready records, column name to value,
// for a plugin's part of a person's export (sdk.Exporter): text as strings, numbers
// as numbers, and the columns named in micros, which hold [Micros] times, as times in
// UTC (0 stays 0: "not set"). A plugin lists its queries; the plumbing is here once.
func Records(ctx context.Context, q sqlx.QueryerContext, micros []string, query string, args ...any) ([]map[string]any, error) {
	rows, err := q.QueryxContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	defer rows.Close()
	out := []map[string]any{}
	for rows.Next() {
		rec := map[string]any{}
		if err := rows.MapScan(rec); err != nil {
			return nil, fmt.Errorf("records: %w", err)
		}
		for k, v := range rec {
			switch x := v.(type) {
			case []byte:
				rec[k] = string(x)
			case int64:
				if slices.Contains(micros, k) && x != 0 {
					rec[k] = FromMicros(x).Format(time.RFC3339Nano)
				}
			}
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	return out, nil
}

// RecordSet is one kind of record in a person's export: the key it goes under, a query
// with one placeholder (?) for the person's id, and the query's columns that hold
// [Micros] times.
type RecordSet struct {
	Key, Query string
	Micros     []string
}

// PersonalRecords runs each set's query for userID on db and returns the records by
// key: the Data of a plugin's sdk.PersonalData, so that an Exporter lists its queries
// and nothing more.
func PersonalRecords(ctx context.Context, db *DB, userID string, sets []RecordSet) (map[string]any, error) {
	out := make(map[string]any, len(sets))
	for _, set := range sets {
		recs, err := Records(ctx, db, set.Micros, db.Rebind(set.Query), userID)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", set.Key, err)
		}
		out[set.Key] = recs
	}
	return out, nil
}

// Export is a plugin's whole sdk.PersonalData: the records of sets for userID (see
// PersonalRecords), described by fields. An Exporter's ExportUser is then one call.
func Export(ctx context.Context, db *DB, userID string, sets []RecordSet, fields map[string]string) (sdk.PersonalData, error) {
	data, err := PersonalRecords(ctx, db, userID, sets)
	if err != nil {
		return sdk.PersonalData{}, err
	}
	return sdk.PersonalData{Data: data, Fields: fields}, nil
}
