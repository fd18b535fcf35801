package volunteers

import (
	"context"
	"slices"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// HoursEntry is one shift in a volunteer's hours summary.
type HoursEntry struct {
	ApplicationID string    `json:"application_id"`
	OpportunityID string    `json:"opportunity_id"`
	Title         string    `json:"title"`
	ShiftID       string    `json:"shift_id"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Status        string    `json:"status" enum:"attended,no_show"`
	Minutes       int       `json:"minutes"`
}

// Hours is a volunteer's hours summary.
type Hours struct {
	VolunteerID  string       `json:"volunteer_id"`
	TotalMinutes int          `json:"total_minutes"`
	TotalHours   float64      `json:"total_hours"`
	Attended     int          `json:"attended"`
	NoShows      int          `json:"no_shows"`
	Entries      []HoursEntry `json:"entries" nullable:"false"`
}

// AttendanceInput records whether a confirmed volunteer came and for how long; Minutes
// defaults to the shift's length.
type AttendanceInput struct {
	Attended bool `json:"attended"`
	Minutes  *int `json:"minutes" min:"0" max:"1440" doc:"Minutes worked; the shift's length when absent"`
}

// RecordAttendance marks a confirmed volunteer as attended (with hours) or a no-show,
// once the shift has started. It may be corrected later.
func (s *Service) RecordAttendance(ctx context.Context, p sdk.Principal, oppID, shiftID, appID string, in AttendanceInput) (Application, error) {
	o, err := s.organiser(ctx, p, oppID)
	if err != nil {
		return Application{}, err
	}
	sh, err := findShift(o, shiftID)
	if err != nil {
		return Application{}, err
	}
	a, err := s.st.application(ctx, s.st.db, appID)
	if err != nil {
		return Application{}, err
	}
	if a.ShiftID != shiftID {
		return Application{}, sdk.Errorf(sdk.CodeNotFound, "application %s not found on shift %s", appID, shiftID)
	}
	now := s.clock()
	if sh.Start.After(now) {
		return Application{}, sdk.Errorf(sdk.CodeConflict, "attendance can be recorded once the shift has started")
	}
	if !slices.Contains(heldStatuses, a.Status) {
		return Application{}, sdk.Errorf(sdk.CodeConflict, "attendance is recorded for confirmed volunteers; this one is %s", a.Status)
	}
	to, minutes := StatusNoShow, 0
	if in.Attended {
		to, minutes = StatusAttended, int(sh.End.Sub(sh.Start)/time.Minute)
		if in.Minutes != nil {
			if *in.Minutes < 0 || *in.Minutes > 24*60 {
				return Application{}, invalid("minutes", "must be between 0 and 1440", sdk.RuleRange)
			}
			minutes = *in.Minutes
		}
	}
	err = s.st.db.InTx(ctx, func(tx *store.Tx) error {
		ok, err := s.st.setStatus(ctx, tx, appID, heldStatuses, to, minutes, now)
		if err != nil {
			return err
		}
		if !ok {
			return sdk.Errorf(sdk.CodeConflict, "application %s changed meanwhile; reload and retry", appID)
		}
		if err := s.st.bumpVersion(ctx, tx); err != nil {
			return err
		}
		return tx.Emit(EventAttendanceRecorded, AttendanceRecorded{ApplicationID: appID, OpportunityID: oppID,
			ShiftID: shiftID, VolunteerID: a.VolunteerID, Attended: in.Attended, Minutes: minutes})
	})
	if err != nil {
		return Application{}, err
	}
	return s.st.application(ctx, s.st.db, appID)
}

// Hours returns the caller's attended shifts and no-shows.
func (s *Service) Hours(ctx context.Context, p sdk.Principal) (Hours, error) {
	if err := requireUser(p); err != nil {
		return Hours{}, err
	}
	entries, err := s.st.hours(ctx, p.UserID)
	if err != nil {
		return Hours{}, err
	}
	h := Hours{VolunteerID: p.UserID, Entries: entries}
	for _, e := range entries {
		if e.Status == StatusAttended {
			h.Attended++
			h.TotalMinutes += e.Minutes
		} else {
			h.NoShows++
		}
	}
	h.TotalHours = float64(h.TotalMinutes) / 60
	return h, nil
}
