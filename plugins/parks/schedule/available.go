package schedule

import (
	"cmp"
	"slices"
	"time"
)

// Conflicts reports whether candidate clashes with any existing booking or
// closure once buffers are counted.
//
// Buffers are set-up time before and clean-up time after every booking.
// A booking's buffers may overlap another booking's buffers (two crews can
// share the gap) but never another booking itself. So candidate conflicts
// with an existing [s, e) when it overlaps [s-before, e+after) — the
// existing booking's buffers — or when its own buffers overlap [s, e).
// Together that is an overlap with [s-m, e+m) where m is the larger buffer;
// checking both sides keeps the relation symmetric, so the order in which
// two bookings were requested never decides whether they clash. With equal
// buffers this is exactly "a booking [s,e) blocks [s-before, e+after)".
//
// Intervals are half-open: 10–12 and 12–14 do not conflict without
// buffers, and do with any.
func Conflicts(candidate Interval, bufferBefore, bufferAfter time.Duration, existing []Interval) bool {
	if candidate.Empty() {
		return false
	}
	m := pad(bufferBefore, bufferAfter)
	for _, x := range existing {
		if x.Empty() {
			continue
		}
		if candidate.Start.Before(x.End.Add(m)) && x.Start.Add(-m).Before(candidate.End) {
			return true
		}
	}
	return false
}

func pad(before, after time.Duration) time.Duration {
	return max(before, after, 0)
}

// Available returns the bookable windows of an area in [from, to), in UTC:
// the opening hours minus every blocking interval widened by the buffers
// (with the same semantics as [Conflicts]), each window trimmed inwards to
// the slot grid and dropped when shorter than the minimum duration or one
// slot. The result is sorted and its windows are disjoint; any booking
// that lies inside one window, on the grid, and within the duration limits
// passes [CheckRequest]'s hours and grid checks and does not conflict.
//
// blocking holds the approved bookings and closures of the area, its
// ancestors and its descendants; it need not be sorted and is not
// modified. Notice and horizon depend on now and are left to the caller,
// who narrows [from, to) accordingly. The configuration is assumed to have
// passed [ValidateConfig].
func Available(hours OpeningHours, rules Rules, tz *time.Location, blocking []Interval, from, to time.Time) []Interval {
	if tz == nil {
		tz = time.UTC
	}
	open := OpenIntervals(hours, tz, from, to)
	if len(open) == 0 {
		return nil
	}
	m := pad(rules.BufferBefore, rules.BufferAfter)
	lo, hi := open[0].Start.Add(-m), open[len(open)-1].End.Add(m)

	// Work in Unix nanoseconds: the filtered blocks lie within the open
	// range, so they fit, and integer compares make the one sort cheap.
	blocks := make([]span, 0, len(blocking))
	for _, b := range blocking {
		if b.Empty() || !b.End.After(lo) || !b.Start.Before(hi) {
			continue
		}
		s, e := b.Start, b.End
		if s.Before(lo) {
			s = lo
		}
		if e.After(hi) {
			e = hi
		}
		blocks = append(blocks, span{s.UnixNano() - int64(m), e.UnixNano() + int64(m)})
	}
	slices.SortFunc(blocks, func(a, b span) int { return cmp.Compare(a.s, b.s) })
	blocks = mergeSpans(blocks)

	minLen := max(rules.MinDuration, rules.Granularity, 1)
	var out []Interval
	emit := func(s, e int64) {
		iv := Interval{
			Start: ceilGrid(time.Unix(0, s).UTC(), tz, rules.Granularity),
			End:   floorGrid(time.Unix(0, e).UTC(), tz, rules.Granularity),
		}
		if iv.Duration() >= minLen {
			out = append(out, iv)
		}
	}
	j := 0
	for _, o := range open {
		cur, end := o.Start.UnixNano(), o.End.UnixNano()
		// Blocks are sorted and disjoint, so one pointer serves all
		// open intervals.
		for j < len(blocks) && blocks[j].e <= cur {
			j++
		}
		for k := j; k < len(blocks) && blocks[k].s < end; k++ {
			if blocks[k].s > cur {
				emit(cur, blocks[k].s)
			}
			cur = max(cur, blocks[k].e)
		}
		if cur < end {
			emit(cur, end)
		}
	}
	return out
}

type span struct{ s, e int64 }

// mergeSpans joins overlapping or touching spans of a sorted slice in place.
func mergeSpans(sp []span) []span {
	out := sp[:0]
	for _, x := range sp {
		if n := len(out); n > 0 && x.s <= out[n-1].e {
			out[n-1].e = max(out[n-1].e, x.e)
			continue
		}
		out = append(out, x)
	}
	return out
}

// maxGridSteps bounds the grid searches; each step reaches the next grid
// line unless a DST change intervenes, so a handful always suffices.
const maxGridSteps = 64

// ceilGrid returns the first instant at or after t whose local wall time is
// on the g grid. Stepping by wall-clock remainders and re-reading the wall
// time after each step is what makes it land correctly after a DST jump.
func ceilGrid(t time.Time, loc *time.Location, g time.Duration) time.Time {
	if g <= 0 {
		return t
	}
	gm := int(g / time.Minute)
	for range maxGridSteps {
		lt := t.In(loc)
		if sub := time.Duration(lt.Second())*time.Second + time.Duration(lt.Nanosecond()); sub != 0 {
			t = t.Add(time.Minute - sub)
			continue
		}
		r := (lt.Hour()*60 + lt.Minute()) % gm
		if r == 0 {
			break
		}
		t = t.Add(time.Duration(gm-r) * time.Minute)
	}
	return t
}

// floorGrid returns the last instant at or before t whose local wall time
// is on the g grid.
func floorGrid(t time.Time, loc *time.Location, g time.Duration) time.Time {
	if g <= 0 {
		return t
	}
	gm := int(g / time.Minute)
	for range maxGridSteps {
		lt := t.In(loc)
		if sub := time.Duration(lt.Second())*time.Second + time.Duration(lt.Nanosecond()); sub != 0 {
			t = t.Add(-sub)
			continue
		}
		r := (lt.Hour()*60 + lt.Minute()) % gm
		if r == 0 {
			break
		}
		t = t.Add(-time.Duration(r) * time.Minute)
	}
	return t
}
