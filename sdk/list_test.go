package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

func listQuery(t *testing.T, query string) (sdk.ListQuery, error) {
	t.Helper()
	return sdk.ListParams(httptest.NewRequest("GET", "/api/v1/x?"+query, nil))
}

func TestListParams(t *testing.T) {
	q, err := listQuery(t, "")
	if err != nil || q.Limit != sdk.DefaultLimit || q.Key != nil || q.Fetch() != sdk.DefaultLimit+1 {
		t.Fatalf("defaults %+v, %v", q, err)
	}
	if q, err := listQuery(t, "limit=200"); err != nil || q.Limit != 200 {
		t.Errorf("limit 200: %+v, %v", q, err)
	}
	for _, bad := range []string{"limit=0", "limit=201", "limit=-1", "limit=abc", "limit=1.5", "limit=99999999999999999999"} {
		_, err := listQuery(t, bad)
		var e *sdk.Error
		if !errors.As(err, &e) || e.Status() != 422 || e.Fields["limit"] == "" || e.Fields["rule"] != sdk.RuleRange {
			t.Errorf("%s: %v, want 422 naming limit", bad, err)
		}
	}
	for _, bad := range []string{"cursor=***", "cursor=" + sdk.EncodeCursor(nil), "cursor=e30", "cursor=" + strings.Repeat("A", 2000),
		"cursor=" + sdk.EncodeCursor([]any{map[string]any{"a": 1}}), "cursor=" + sdk.EncodeCursor([]any{"a\x00b"})} {
		_, err := listQuery(t, bad)
		var e *sdk.Error
		if !errors.As(err, &e) || e.Status() != 400 || e.Fields["cursor"] == "" {
			t.Errorf("%.40s: %v, want 400 naming cursor", bad, err)
		}
	}
	// A cursor round-trips its key, integers as int64.
	key := []any{"b", int64(1_750_000_000_000_123), int64(-3), true}
	q, err = listQuery(t, "limit=3&cursor="+sdk.EncodeCursor(key))
	if err != nil || q.Limit != 3 || !reflect.DeepEqual(q.Key, key) {
		t.Fatalf("round trip: %+v (%T), %v", q.Key, q.Key[1], err)
	}
	where, args, err := q.After("a", "b", "c", "d")
	if err != nil || where != "(a, b, c, d) > (?, ?, ?, ?)" || !reflect.DeepEqual(args, key) {
		t.Errorf("After: %q %v %v", where, args, err)
	}
	if where, _, _ := q.Before("a", "b", "c", "d"); where != "(a, b, c, d) < (?, ?, ?, ?)" {
		t.Errorf("Before: %q", where)
	}
	var e *sdk.Error
	if _, _, err := q.After("a"); !errors.As(err, &e) || e.Status() != 400 || e.Fields["cursor"] == "" {
		t.Errorf("a cursor of another list: %v", err)
	}
	if where, args, err := (sdk.ListQuery{Limit: 5}).After("a", "b"); where != "1 = 1" || args != nil || err != nil {
		t.Errorf("first page: %q %v %v", where, args, err)
	}
}

func TestNewPage(t *testing.T) {
	q := sdk.ListQuery{Limit: 2}
	key := func(s string) []any { return []any{s} }
	if p := sdk.NewPage[string](nil, q, key); p.Items == nil || len(p.Items) != 0 || p.NextCursor != "" {
		t.Errorf("empty page %+v", p)
	}
	if p := sdk.NewPage([]string{"a", "b"}, q, key); len(p.Items) != 2 || p.NextCursor != "" {
		t.Errorf("last page %+v", p)
	}
	p := sdk.NewPage([]string{"a", "b", "c"}, q, key)
	if !slices.Equal(p.Items, []string{"a", "b"}) || p.NextCursor != sdk.EncodeCursor([]any{"b"}) {
		t.Errorf("full page %+v", p)
	}
}

// itemStore is a list in a real store, paged the way the docs teach.
type itemStore struct {
	db *store.DB
	mu sync.Mutex
	n  int
}

func newItemStore(t *testing.T, cfg sdk.StoreConfig) *itemStore {
	t.Helper()
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE items (id TEXT PRIMARY KEY, rank BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return &itemStore{db: db}
}

func (s *itemStore) insert(t testing.TB, rank int64) {
	s.mu.Lock()
	s.n++
	id := fmt.Sprintf("item-%04d", s.n)
	s.mu.Unlock()
	if _, err := s.db.Exec(s.db.Rebind(`INSERT INTO items (id, rank) VALUES (?, ?)`), id, rank); err != nil {
		t.Error(err)
	}
}

type item struct {
	ID   string `db:"id"`
	Rank int64  `db:"rank"`
}

// page is storage and service at once: keyset on (rank, id), ascending or descending.
func (s *itemStore) page(t testing.TB, q sdk.ListQuery, desc bool) sdk.Page[item] {
	where, args, err := q.After("rank", "id")
	order := "rank, id"
	if desc {
		where, args, err = q.Before("rank", "id")
		order = "rank DESC, id DESC"
	}
	if err != nil {
		t.Fatal(err)
	}
	var rows []item
	err = s.db.Select(&rows, s.db.Rebind(`SELECT id, rank FROM items WHERE `+where+` ORDER BY `+order+` LIMIT ?`), append(args, q.Fetch())...)
	if err != nil {
		t.Fatal(err)
	}
	return sdk.NewPage(rows, q, func(it item) []any { return []any{it.Rank, it.ID} })
}

// fetch returns the fetchPage of WalkPages over the list, through ListParams as a
// handler would read the cursor.
func (s *itemStore) fetch(t *testing.T, limit int, desc bool) func(string) ([]string, string) {
	return func(cursor string) ([]string, string) {
		q, err := listQuery(t, fmt.Sprintf("limit=%d&cursor=%s", limit, cursor))
		if err != nil {
			t.Fatal(err)
		}
		p := s.page(t, q, desc)
		ids := make([]string, len(p.Items))
		for i, it := range p.Items {
			ids[i] = it.ID
		}
		return ids, p.NextCursor
	}
}

func TestList_Keyset(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		s := newItemStore(t, cfg)
		for i := range 23 {
			s.insert(t, int64(i%7)*1_750_000_000_000_000) // ties on rank: id breaks them
		}
		var all []item
		if err := s.db.Select(&all, `SELECT id, rank FROM items ORDER BY rank, id`); err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, it := range all {
			want = append(want, it.ID)
		}
		for _, desc := range []bool{false, true} {
			got := sdktest.WalkPages(t, s.fetch(t, 5, desc), func(i int) {
				s.insert(t, int64(i%3)*1_750_000_000_000_000) // among, before and after the walked rows
			})
			for _, id := range want {
				if !slices.Contains(got, id) {
					t.Errorf("desc %v: %s missing", desc, id)
				}
			}
		}
	})
}

// recordingTB keeps the failures WalkPages reports instead of failing the test.
type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// WalkPages catches the two ways a list breaks under inserts: offset pages repeat an
// item when one is inserted ahead of the cursor, and lose one when a page skips.
func TestWalkPages_CatchesBrokenLists(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		s := newItemStore(t, cfg)
		for i := range 12 {
			s.insert(t, int64(10+i))
		}
		var existing []string
		if err := s.db.Select(&existing, `SELECT id FROM items`); err != nil {
			t.Fatal(err)
		}
		offsetPages := func(cursor string) ([]string, string) {
			off := 0
			fmt.Sscan(cursor, &off)
			var ids []string
			if err := s.db.Select(&ids, s.db.Rebind(`SELECT id FROM items ORDER BY rank, id LIMIT 4 OFFSET ?`), off); err != nil {
				t.Fatal(err)
			}
			if len(ids) < 4 {
				return ids, ""
			}
			return ids, fmt.Sprint(off + 4)
		}
		rec := &recordingTB{TB: t}
		sdktest.WalkPages(rec, offsetPages, func(int) { s.insert(t, 0) }) // each insert lands first
		if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "again on page") {
			t.Errorf("offset pages with inserts at the front: WalkPages reported %q", rec.errors)
		}

		skipping := func(cursor string) ([]string, string) {
			ids, next := s.fetch(t, 4, false)(cursor)
			if len(ids) > 0 && next != "" {
				return ids[:len(ids)-1], next // shows one item fewer than the cursor passes
			}
			return ids, next
		}
		rec = &recordingTB{TB: t}
		sdktest.WalkPagesFrom(rec, existing, skipping, func(int) { s.insert(t, 1000) })
		if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "lost") {
			t.Errorf("a list that skips items: WalkPages reported %q", rec.errors)
		}
	})
}
