package store

import (
	"regexp"
	"testing"
	"time"
)

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestEventIDs: ids sort in the order they were made, within one millisecond (more
// than the 12-bit counter holds), across milliseconds and when the clock steps back.
func TestEventIDs(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := []time.Time{}
	for range 10_000 {
		clock = append(clock, now) // one millisecond
	}
	clock = append(clock, now.Add(-time.Hour), now.Add(time.Second), now.Add(time.Second+time.Millisecond))
	prev := ""
	for i, c := range clock {
		id := newEventID(c)
		if !uuidV7.MatchString(id) {
			t.Fatalf("id %d = %q, not a UUIDv7", i, id)
		}
		if id <= prev {
			t.Fatalf("id %d = %s after %s: out of order", i, id, prev)
		}
		prev = id
	}
}
