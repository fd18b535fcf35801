package sdktest

import (
	"fmt"
	"testing"
)

// maxWalkPages stops a list whose cursors never end.
const maxWalkPages = 10_000

// WalkPages walks a list page by page while another goroutine inserts into it, and
// fails the test on an item that existed before the walk and is missing from it, or on
// an item shown twice (DESIGN.md §7: lists are stable under concurrent inserts).
//
// fetchPage fetches the page at cursor ("" for the first) and returns its item IDs and
// the next cursor ("" on the last page). insertConcurrently(i) inserts the i-th new
// item; it runs on another goroutine, so it must report problems with tb.Error, not
// tb.Fatal. The list is first walked once without inserts to learn what existed; then
// it is walked again, one insert starting before each page is fetched and running
// alongside it. Use a small limit, so the walk takes several pages. It returns the IDs
// of the second walk.
//
// A list that loses items even without inserts (a keyset on a column that is not
// unique, say) loses them in the first walk too; WalkPagesFrom, given the IDs the test
// created, catches that as well.
func WalkPages(tb testing.TB, fetchPage func(cursor string) (ids []string, next string), insertConcurrently func(i int)) []string {
	tb.Helper()
	return WalkPagesFrom(tb, nil, fetchPage, insertConcurrently)
}

// WalkPagesFrom is WalkPages for a list known to hold at least the items existing
// (learnt by a first walk when nil).
func WalkPagesFrom(tb testing.TB, existing []string, fetchPage func(cursor string) (ids []string, next string), insertConcurrently func(i int)) []string {
	tb.Helper()
	before := existing
	if before == nil {
		var err error
		if before, err = walk(fetchPage, nil); err != nil {
			tb.Errorf("walking the list before inserting: %v", err)
			return nil
		}
	}
	inserted := 0
	var pending chan struct{}
	during, err := walk(fetchPage, func() {
		if pending != nil {
			<-pending // one insert at a time, each overlapping one fetch
		}
		pending = make(chan struct{})
		go func(i int, done chan struct{}) {
			defer close(done)
			insertConcurrently(i)
		}(inserted, pending)
		inserted++
	})
	if pending != nil {
		<-pending
	}
	if err != nil {
		tb.Errorf("walking the list while inserting: %v", err)
		return during
	}
	seen := make(map[string]bool, len(during))
	for _, id := range during {
		seen[id] = true
	}
	var lost []string
	for _, id := range before {
		if !seen[id] {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		tb.Errorf("walking the list while inserting %d items lost %d of the %d that were there before: %v", inserted, len(lost), len(before), lost)
	}
	return during
}

// walk fetches every page, calling beforeEach before each fetch, and reports an item
// shown twice or a walk that does not end.
func walk(fetchPage func(string) ([]string, string), beforeEach func()) ([]string, error) {
	var all []string
	seen := map[string]int{}
	cursor := ""
	for page := 0; ; page++ {
		if page == maxWalkPages {
			return all, fmt.Errorf("no last page after %d pages", maxWalkPages)
		}
		if beforeEach != nil {
			beforeEach()
		}
		ids, next := fetchPage(cursor)
		for _, id := range ids {
			if p, ok := seen[id]; ok {
				return all, fmt.Errorf("item %s on page %d again on page %d", id, p+1, page+1)
			}
			seen[id] = page
			all = append(all, id)
		}
		if next == "" {
			return all, nil
		}
		if next == cursor {
			return all, fmt.Errorf("page %d gives its own cursor %q as the next", page+1, next)
		}
		cursor = next
	}
}
