package sdk

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// Every list answers a Page and takes limit and cursor (DESIGN.md §7). Pages are keyset
// pages: the cursor holds the sort key of the last item shown, and the next page starts
// after it, so rows inserted meanwhile neither repeat nor hide an item.
//
//	q, err := sdk.ListParams(r)                          // handler
//	where, args, err := q.After("created_at", "id")      // storage: "(created_at, id) > (?, ?)"
//	… WHERE park_id = ? AND `+where+` ORDER BY created_at, id LIMIT ?  (q.Fetch())
//	return sdk.NewPage(rows, q, func(b Booking) []any { return []any{b.CreatedAt, b.ID} })

// List limits.
const (
	DefaultLimit = 50
	MaxLimit     = 200
	// maxCursor bounds the cursor parameter; a real one is far shorter.
	maxCursor = 1000
)

// Page is one page of a list. NextCursor is "" on the last page.
type Page[T any] struct {
	Items      []T    `json:"items" nullable:"false"`
	NextCursor string `json:"next_cursor" doc:"Pass as cursor for the next page; empty on the last page."`
}

// isPage marks Page for the OpenAPI generator, which gives list routes limit and cursor.
func (Page[T]) isPage() {}

type pager interface{ isPage() }

// ListQuery is a list request: how many items and where to start.
type ListQuery struct {
	Limit int
	// Key is the sort key of the last item of the previous page, as keyFn of NewPage
	// gave it; nil on the first page.
	Key []any
}

// ListParams reads limit (default DefaultLimit, 1 to MaxLimit; otherwise 422 naming
// limit) and cursor (one NewPage made; otherwise 400 naming cursor) from the query.
func ListParams(r *http.Request) (ListQuery, error) {
	q := ListQuery{Limit: DefaultLimit}
	values := r.URL.Query()
	if s := values.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return q, inputError("limit", fmt.Sprintf("must be a whole number from 1 to %d", MaxLimit), RuleRange)
		}
		q.Limit = n
	}
	if s := values.Get("cursor"); s != "" {
		key, err := decodeCursor(s)
		if err != nil {
			e := Malformed("cursor: is not a cursor this list gave; start again without it")
			e.Fields = map[string]string{"cursor": "is not a cursor this list gave"}
			return q, e
		}
		q.Key = key
	}
	return q, nil
}

// Fetch is how many rows storage asks for: one more than Limit, to know whether a next
// page exists.
func (q ListQuery) Fetch() int { return q.Limit + 1 }

// After is the keyset condition of an ascending list ordered by cols: "(a, b) > (?, ?)"
// with the cursor's values as args, or "1 = 1" without a cursor. Row values compare
// the same on SQLite and PostgreSQL. A cursor with a different number of values is a
// 400 naming cursor.
func (q ListQuery) After(cols ...string) (where string, args []any, err error) {
	return q.keyset(">", cols)
}

// Before is After for a descending list (ORDER BY a DESC, b DESC): "(a, b) < (?, ?)".
func (q ListQuery) Before(cols ...string) (where string, args []any, err error) {
	return q.keyset("<", cols)
}

func (q ListQuery) keyset(op string, cols []string) (string, []any, error) {
	if q.Key == nil {
		return "1 = 1", nil, nil
	}
	if len(q.Key) != len(cols) {
		e := Malformed("cursor: is not a cursor this list gave; start again without it")
		e.Fields = map[string]string{"cursor": "is not a cursor this list gave"}
		return "", nil, e
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")
	return "(" + strings.Join(cols, ", ") + ") " + op + " (" + marks + ")", q.Key, nil
}

// NewPage makes a page of rows fetched with q.Fetch(): at most q.Limit items, and a
// cursor holding key of the last one when there were more. key returns the values of
// the columns the list is ordered by, in the order After takes them: strings, integers,
// or times stored as integers.
func NewPage[T any](rows []T, q ListQuery, key func(T) []any) Page[T] {
	p := Page[T]{Items: rows}
	if p.Items == nil {
		p.Items = []T{}
	}
	if q.Limit > 0 && len(rows) > q.Limit {
		p.Items = rows[:q.Limit]
		p.NextCursor = EncodeCursor(key(p.Items[q.Limit-1]))
	}
	return p
}

// EncodeCursor is the opaque cursor of a sort key: base64url of its JSON.
func EncodeCursor(key []any) string {
	b, err := json.Marshal(key)
	if err != nil {
		panic(fmt.Sprintf("sdk: list key %v cannot be a cursor: %v", key, err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) ([]any, error) {
	if len(s) > maxCursor {
		return nil, fmt.Errorf("cursor too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw []any
	if err := dec.Decode(&raw); err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("not a key")
	}
	key := make([]any, len(raw))
	for i, v := range raw {
		switch v := v.(type) {
		case string:
			if strings.IndexByte(v, 0) >= 0 {
				return nil, fmt.Errorf("NUL in key") // PostgreSQL refuses it in text
			}
			key[i] = v
		case json.Number:
			if n, err := v.Int64(); err == nil {
				key[i] = n
			} else if f, err := v.Float64(); err == nil && !math.IsInf(f, 0) {
				key[i] = f
			} else {
				return nil, fmt.Errorf("bad number")
			}
		case bool:
			key[i] = v
		default:
			return nil, fmt.Errorf("key value %T", v)
		}
	}
	return key, nil
}
