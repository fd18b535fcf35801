package store

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// Every plugin store keeps times one way: a BIGINT column of Unix microseconds, UTC.
// The number sorts and compares in SQL as the times do, on both dialects, and reads
// back exactly (times are truncated to the microsecond when written).

// Micros encodes t for a time column: Unix microseconds.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// FromMicros decodes a time column, in UTC.
func FromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// Time is a time.Time that scans from and is written to a NOT NULL BIGINT column of
// Unix microseconds. Reading NULL or a value of another type (a TEXT time left by an
// older schema, say) is an error, never a zero time.
//
//	var r struct{ CreatedAt store.Time `db:"created_at"` }
//	tx.ExecContext(ctx, q, store.Time{Time: now}) // or store.Micros(now)
type Time struct{ time.Time }

// Scan implements sql.Scanner.
func (t *Time) Scan(src any) error {
	if src == nil {
		return fmt.Errorf("store.Time: the column is NULL; scan a nullable time into store.NullTime")
	}
	us, err := micros(src)
	if err != nil {
		return fmt.Errorf("store.Time: %w", err)
	}
	t.Time = FromMicros(us)
	return nil
}

// Value implements driver.Valuer.
func (t Time) Value() (driver.Value, error) { return Micros(t.Time), nil }

// NullTime is Time for a nullable column: NULL is Valid false.
type NullTime struct {
	Time  time.Time
	Valid bool
}

// NullTimeOf is NULL for nil and *t otherwise, for optional times kept as pointers.
func NullTimeOf(t *time.Time) NullTime {
	if t == nil {
		return NullTime{}
	}
	return NullTime{Time: *t, Valid: true}
}

// Ptr is nil for NULL and the time otherwise.
func (n NullTime) Ptr() *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time
	return &t
}

// Scan implements sql.Scanner.
func (n *NullTime) Scan(src any) error {
	if src == nil {
		*n = NullTime{}
		return nil
	}
	us, err := micros(src)
	if err != nil {
		return fmt.Errorf("store.NullTime: %w", err)
	}
	*n = NullTime{Time: FromMicros(us), Valid: true}
	return nil
}

// Value implements driver.Valuer.
func (n NullTime) Value() (driver.Value, error) {
	if !n.Valid {
		return nil, nil
	}
	return Micros(n.Time), nil
}

// micros accepts what the drivers return for a BIGINT column, and nothing else.
func micros(src any) (int64, error) {
	if us, ok := src.(int64); ok {
		return us, nil
	}
	shown := src
	if b, ok := src.([]byte); ok {
		shown = string(b)
	}
	return 0, fmt.Errorf("want Unix microseconds (an integer), the column holds %T %.40v", src, shown)
}
