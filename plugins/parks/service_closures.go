package parks

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
	"github.com/kvarter/kvarter/sdk"
)

// ClosureInput closes an area for maintenance or a city event.
type ClosureInput struct {
	AreaID string `json:"area_id" max:"64"`
	Start  string `json:"start" max:"64"`
	End    string `json:"end" max:"64"`
	Title  string `json:"title" max:"200"`
	// CancelBookings cancels the approved events the closure overlaps, with
	// Reason, which the groups are told; without it such a closure is refused.
	CancelBookings bool   `json:"cancel_bookings" doc:"Cancel the approved events the closure overlaps (their groups are told, with the reason) instead of being refused"`
	Reason         string `json:"reason" max:"4000" doc:"Why, required with cancel_bookings"`
}

// CreateClosure enters a closure: a blocking booking that starts approved
// and needs none of the booking rules. Where it would overlap an approved
// booking it is refused, unless CancelBookings cancels those events' dates
// in the same transaction, with a reason the groups are told; open requests
// it collides with are rejected.
func (s *Service) CreateClosure(ctx context.Context, pr sdk.Principal, parkID string, in ClosureInput) (*Booking, error) {
	park, start, end, err := s.closureFor(ctx, pr, parkID, in)
	if err != nil {
		return nil, err
	}
	in.Title = strings.TrimSpace(in.Title)
	if in.Title == "" || utf8.RuneCountInString(in.Title) > maxTitle {
		return nil, invalid("title", RuleTitle, fmt.Sprintf("required, at most %d characters", maxTitle))
	}
	reason := ""
	if in.CancelBookings {
		if reason, err = checkReason(in.Reason); err != nil {
			return nil, err
		}
	}
	now := s.now().UTC()
	// Not stored yet: the transition from "" writes it approved.
	b := &Booking{ID: newID(), ParkID: parkID, AreaID: in.AreaID, Kind: KindClosure,
		RequesterID: pr.UserID, Title: in.Title, Category: "other", Start: start, End: end,
		SupportItems: map[string]int{}, CreatedAt: now, UpdatedAt: now}
	return s.transition(ctx, pr, park, transition{to: StatusApproved, actor: pr.UserID, create: b,
		displace: in.CancelBookings, reason: reason,
		action: "parks.closure.create", detail: map[string]any{"area_id": in.AreaID, "title": in.Title}})
}

// closureFor loads the park of a closure (or its preview), checks that pr may
// close its areas, and reads the closure's interval.
func (s *Service) closureFor(ctx context.Context, pr sdk.Principal, parkID string, in ClosureInput) (park *Park, start, end time.Time, err error) {
	if park, err = getPark(ctx, s.st.db, parkID); err != nil {
		return nil, start, end, err
	}
	if err = s.require(ctx, pr, PermAreaManage, parkDomain(park), RuleParkManager, "Only a manager of "+park.Name+" can close areas."); err != nil {
		return nil, start, end, err
	}
	if start, err = parseTime("start", in.Start); err != nil {
		return nil, start, end, err
	}
	if end, err = parseTime("end", in.End); err != nil {
		return nil, start, end, err
	}
	if !start.Before(end) {
		return nil, start, end, sdk.RuleError(sdk.CodeInvalid, schedule.RuleEndBeforeStart, "The closure must end after it starts.")
	}
	return park, start, end, nil
}
