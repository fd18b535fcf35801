package schedule

import (
	"fmt"
	"slices"
	"sort"
)

// Catalogue is a park's lendable equipment: item name → quantity owned.
type Catalogue map[string]int

// ItemBooking is a booking's claim on equipment during its interval.
type ItemBooking struct {
	Interval Interval
	Items    map[string]int
}

// Shortage says that a requested item would be over-allocated.
type Shortage struct {
	Item string
	// Quantity is how many the park owns (0 for an unknown item).
	Quantity int
	// InUse is the largest number lent to other bookings at any one
	// instant of the requested interval.
	InUse int
	// Requested is what the new booking asks for.
	Requested int
	// Short is how many are missing: InUse + Requested - Quantity.
	Short int
}

// CheckItems checks that req's items never over-allocate the catalogue at
// any instant of req's interval, given the approved bookings in existing.
// Usage is swept over time rather than summed over every overlapping
// booking, because two bookings of 10 chairs at 10–12 and 14–16 do not
// both hold chairs during a request for 09–17. It returns the shortages
// sorted by item, or nil when everything fits. Items are needed during the
// booking itself, not its buffers.
func CheckItems(cat Catalogue, existing []ItemBooking, req ItemBooking) ([]Shortage, error) {
	if req.Interval.Empty() {
		return nil, fmt.Errorf("schedule: item request for empty interval %s", req.Interval)
	}
	names := make([]string, 0, len(req.Items))
	for name, q := range req.Items {
		if q < 0 {
			return nil, fmt.Errorf("schedule: negative quantity %d of %q", q, name)
		}
		if q > 0 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	slices.Sort(names)
	index := make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i
	}

	type event struct {
		at    int64
		item  int
		delta int
	}
	var events []event
	for _, b := range existing {
		if !b.Interval.Overlaps(req.Interval) {
			continue
		}
		s, e := b.Interval.Start, b.Interval.End
		if s.Before(req.Interval.Start) {
			s = req.Interval.Start
		}
		if e.After(req.Interval.End) {
			e = req.Interval.End
		}
		for name, q := range b.Items {
			if i, ok := index[name]; ok && q > 0 {
				events = append(events, event{s.UnixNano(), i, q}, event{e.UnixNano(), i, -q})
			}
		}
	}
	// At equal instants releases come first: intervals are half-open, so
	// a booking ending at 12:00 hands its chairs to one starting at 12:00.
	sort.Slice(events, func(a, b int) bool {
		if events[a].at != events[b].at {
			return events[a].at < events[b].at
		}
		return events[a].delta < events[b].delta
	})
	use := make([]int, len(names))
	peak := make([]int, len(names))
	for _, ev := range events {
		use[ev.item] += ev.delta
		peak[ev.item] = max(peak[ev.item], use[ev.item])
	}
	var out []Shortage
	for i, name := range names {
		want := req.Items[name]
		if short := peak[i] + want - cat[name]; short > 0 {
			out = append(out, Shortage{Item: name, Quantity: cat[name], InUse: peak[i], Requested: want, Short: short})
		}
	}
	return out, nil
}
