package volunteers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kvarter/kvarter/plugins/volunteers/match"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Background-check statuses, set only by city staff.
const (
	CheckNone     = "none"
	CheckPending  = "pending"
	CheckCleared  = "cleared"
	CheckRejected = "rejected"
)

// AvailabilityWindow is a weekly window in the city's wall-clock time, "HH:MM" to
// "HH:MM"; an end at or before the start runs past midnight, "24:00" is midnight.
type AvailabilityWindow struct {
	Day   string `json:"day" max:"16" enum:"monday,tuesday,wednesday,thursday,friday,saturday,sunday" example:"saturday"`
	Start string `json:"start" max:"5" doc:"Local wall-clock time HH:MM" example:"09:00"`
	End   string `json:"end" max:"5" doc:"HH:MM; at or before start runs past midnight; 24:00 is midnight" example:"13:00"`
}

// BackgroundCheck is a volunteer's check; Expires is the last valid day (YYYY-MM-DD),
// empty when it does not expire.
type BackgroundCheck struct {
	Status  string `json:"status" max:"32" enum:"none,pending,cleared,rejected"`
	Expires string `json:"expires,omitempty" max:"10" format:"date" doc:"The last valid day; absent when the check does not expire"`
}

// Profile is what a resident says once about what they can do and when.
type Profile struct {
	UserID           string               `json:"user_id" doc:"The volunteer"`
	Skills           []string             `json:"skills" nullable:"false" doc:"Skill IDs from the catalogue"`
	Tags             []string             `json:"tags" nullable:"false" doc:"Free words: interests, what they like to do"`
	Languages        []string             `json:"languages" nullable:"false" doc:"Language codes" example:"[\"fi\",\"en\"]"`
	Availability     []AvailabilityWindow `json:"availability" nullable:"false" doc:"Weekly windows in the city's time zone"`
	UnavailableDates []string             `json:"unavailable_dates" nullable:"false" format:"date" doc:"Local dates the volunteer cannot come"`
	Neighbourhoods   []string             `json:"neighbourhoods" nullable:"false" doc:"Neighbourhood IDs where they like to help"`
	MaxHoursPerWeek  int                  `json:"max_hours_per_week" doc:"At most this many committed hours in an ISO week; 0 for no limit"`
	BirthDate        string               `json:"birth_date" format:"date" doc:"For minimum ages"`
	BackgroundCheck  BackgroundCheck      `json:"background_check" doc:"Set by city staff only"`
	CreatedAt        time.Time            `json:"created_at"`
	UpdatedAt        time.Time            `json:"updated_at"`
}

// ProfileInput is the body of PUT /profile. The background check is not part of it: only
// city staff set it.
type ProfileInput struct {
	Skills           []string             `json:"skills" max:"64" doc:"Skill IDs from the catalogue"`
	Tags             []string             `json:"tags" max:"64" doc:"Free words: interests, what they like to do"`
	Languages        []string             `json:"languages" max:"16" doc:"Language codes" example:"[\"fi\",\"en\"]"`
	Availability     []AvailabilityWindow `json:"availability" doc:"Weekly windows in the city's time zone"`
	UnavailableDates []string             `json:"unavailable_dates" max:"10" format:"date" doc:"Local dates the volunteer cannot come"`
	Neighbourhoods   []string             `json:"neighbourhoods" max:"64" doc:"Neighbourhood IDs where they like to help"`
	MaxHoursPerWeek  int                  `json:"max_hours_per_week" min:"0" max:"168" doc:"At most this many committed hours in an ISO week; 0 for no limit"`
	BirthDate        string               `json:"birth_date" max:"10" format:"date" example:"1990-05-17"`
}

// Profile returns the caller's own profile.
func (s *Service) Profile(ctx context.Context, p sdk.Principal) (Profile, error) {
	if err := requireUser(p); err != nil {
		return Profile{}, err
	}
	return s.st.profile(ctx, s.st.db, p.UserID)
}

// PutProfile creates or replaces the caller's profile; the background check is kept.
func (s *Service) PutProfile(ctx context.Context, p sdk.Principal, in ProfileInput) (Profile, error) {
	return s.putProfile(ctx, p, in, time.Time{})
}

// putProfile writes the caller's profile; created is kept as its creation time when
// not zero.
func (s *Service) putProfile(ctx context.Context, p sdk.Principal, in ProfileInput, created time.Time) (Profile, error) {
	if err := requireUser(p); err != nil {
		return Profile{}, err
	}
	now := s.clock()
	if created.IsZero() {
		created = now
	}
	var f fields
	birth, err := parseDate(in.BirthDate)
	if err != nil {
		f.add("birth_date", err.Error(), RuleFormat)
	} else if today := match.DateOf(now, s.cfg.Location); birth.String() > today.String() {
		f.add("birth_date", "must not be in the future", RuleNotFuture)
	}
	for i, w := range in.Availability {
		if _, err := parseWindow(w); err != nil {
			f.add(fmt.Sprintf("availability[%d]", i), err.Error(), RuleFormat)
		}
	}
	for i, d := range in.UnavailableDates {
		if _, err := parseDate(d); err != nil {
			f.add(fmt.Sprintf("unavailable_dates[%d]", i), err.Error(), RuleFormat)
		}
	}
	if in.MaxHoursPerWeek < 0 || in.MaxHoursPerWeek > 168 {
		f.add("max_hours_per_week", "must be between 0 (no limit) and 168", sdk.RuleRange)
	}
	bad, err := s.unknownSkills(ctx, in.Skills)
	if err != nil {
		return Profile{}, err
	}
	if len(bad) > 0 {
		f.add("skills", "unknown skills: "+strings.Join(bad, ", "), RuleKnownSkill)
	}
	if err := s.checkNeighbourhoods(ctx, &f, "neighbourhoods", in.Neighbourhoods); err != nil {
		return Profile{}, err
	}
	if err := f.err("invalid volunteer profile"); err != nil {
		return Profile{}, err
	}
	prof := Profile{
		UserID: p.UserID, Skills: dedupe(in.Skills), Tags: dedupe(in.Tags), Languages: dedupe(in.Languages),
		Availability: nonNil(in.Availability), UnavailableDates: dedupe(in.UnavailableDates),
		Neighbourhoods: dedupe(in.Neighbourhoods), MaxHoursPerWeek: in.MaxHoursPerWeek, BirthDate: in.BirthDate,
		CreatedAt: created, UpdatedAt: now,
	}
	err = s.st.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.st.upsertProfile(ctx, tx, prof); err != nil {
			return err
		}
		return s.st.bumpVersion(ctx, tx)
	})
	if err != nil {
		return Profile{}, err
	}
	return s.st.profile(ctx, s.st.db, p.UserID)
}

// DeleteProfile opts the caller out: the profile and every application go.
func (s *Service) DeleteProfile(ctx context.Context, p sdk.Principal) error {
	if err := requireUser(p); err != nil {
		return err
	}
	if _, err := s.st.profile(ctx, s.st.db, p.UserID); err != nil {
		return err
	}
	return s.erase(ctx, p.UserID)
}

// SetBackgroundCheck records a check; only city staff reach it (route permission in the
// city domain).
func (s *Service) SetBackgroundCheck(ctx context.Context, p sdk.Principal, userID string, c BackgroundCheck) (Profile, error) {
	var f fields
	if _, ok := checkStatus[c.Status]; !ok {
		f.add("status", "must be one of none, pending, cleared, rejected", RuleEnum)
	}
	if c.Expires != "" {
		if _, err := parseDate(c.Expires); err != nil {
			f.add("expires", err.Error(), RuleFormat)
		}
	}
	if err := f.err("invalid background check"); err != nil {
		return Profile{}, err
	}
	err := s.st.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.st.setCheck(ctx, tx, userID, c, s.clock()); err != nil {
			return err
		}
		return s.st.bumpVersion(ctx, tx)
	})
	if err != nil {
		return Profile{}, err
	}
	s.audit(ctx, p.UserID, "volunteers.background_check.set", sdk.DomainCity, userID,
		map[string]any{"status": c.Status, "expires": c.Expires})
	return s.st.profile(ctx, s.st.db, userID)
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

func parseDate(s string) (match.Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return match.Date{}, fmt.Errorf("must be a date YYYY-MM-DD")
	}
	return match.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
}

// parseClock parses "HH:MM" as an offset from local midnight; "24:00" is accepted as
// the end of the day.
func parseClock(s string) (time.Duration, error) {
	var h, m int
	if n, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || n != 2 || len(s) != 5 ||
		h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("must be a time HH:MM")
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

func parseWindow(w AvailabilityWindow) (match.Window, error) {
	day, ok := weekdays[strings.ToLower(w.Day)]
	if !ok {
		return match.Window{}, fmt.Errorf("day must be a weekday name such as \"saturday\"")
	}
	start, err := parseClock(w.Start)
	if err != nil || start == 24*time.Hour {
		return match.Window{}, fmt.Errorf("start must be a time HH:MM before 24:00")
	}
	end, err := parseClock(w.End)
	if err != nil {
		return match.Window{}, fmt.Errorf("end %v", err)
	}
	return match.Window{Day: day, Start: start, End: end}, nil
}

var checkStatus = map[string]match.CheckStatus{
	CheckNone: match.CheckNone, CheckPending: match.CheckPending,
	CheckCleared: match.CheckCleared, CheckRejected: match.CheckRejected,
}
