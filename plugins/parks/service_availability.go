package parks

import (
	"context"
	"time"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Availability returns the free windows of an area in [from, to): opening
// hours minus closures and approved bookings of the area, its ancestors
// and its descendants, with buffers, on the slot grid, and only where a
// booking could still be requested now (after the notice period, before
// the horizon).
func (s *Service) Availability(ctx context.Context, parkID, areaID string, from, to time.Time) (*Availability, error) {
	if !from.Before(to) {
		return nil, sdk.RuleError(sdk.CodeInvalid, schedule.RuleEndBeforeStart, "to must be after from.")
	}
	if to.Sub(from) > maxAvailability {
		return nil, sdk.RuleError(sdk.CodeInvalid, RuleRangeTooLong, "Ask for at most 366 days at once.")
	}
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	tree, err := s.cachedAreas(ctx, parkID, areaID)
	if err != nil {
		return nil, err
	}
	a := tree[areaID]
	if a == nil {
		return nil, notFound("area", areaID)
	}
	now := s.now()
	if earliest := now.Add(a.rules.MinNotice); from.Before(earliest) {
		from = earliest
	}
	if a.rules.Horizon > 0 {
		if latest := now.Add(a.rules.Horizon); to.After(latest) {
			to = latest
		}
	}
	loc := park.location()
	res := &Availability{AreaID: areaID, TimeZone: park.TimeZone, From: from.In(loc), To: to.In(loc), Free: []Window{}}
	if !from.Before(to) {
		return res, nil
	}
	hp := a.halfPad()
	rows, err := blockingFor(ctx, s.st.db, tree, areaID, store.Micros(from.Add(-hp)), store.Micros(to.Add(hp)))
	if err != nil {
		return nil, err
	}
	blocks := make([]schedule.Interval, len(rows))
	for i, r := range rows {
		blocks[i] = schedule.Interval{Start: store.FromMicros(r.Lo), End: store.FromMicros(r.Hi)}
	}
	// Rows are already widened by their own half pad; widening by ours
	// as well gives exactly the database's overlap rule.
	rules := a.rules
	rules.BufferBefore, rules.BufferAfter = hp, hp
	for _, iv := range schedule.Available(a.hours, rules, loc, blocks, from, to) {
		res.Free = append(res.Free, Window{Start: iv.Start.In(loc), End: iv.End.In(loc)})
	}
	return res, nil
}

// Availability is the answer to "when is this area free?". Times are in
// the park's zone, so a reader sees the wall-clock times of the park.
type Availability struct {
	AreaID   string    `json:"area_id"`
	TimeZone string    `json:"time_zone"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Free     []Window  `json:"free"`
}

// Window is a free half-open interval [Start, End).
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}
