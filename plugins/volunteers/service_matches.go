package volunteers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kvarter/kvarter/plugins/volunteers/match"
	"github.com/kvarter/kvarter/sdk"
)

// MatchCandidate is one eligible volunteer for a shift with the reasons for the score.
type MatchCandidate struct {
	VolunteerID string   `json:"volunteer_id"`
	Score       int      `json:"score"`
	Reasons     []string `json:"reasons"`
}

// Recommendation is one shift a volunteer may take.
type Recommendation struct {
	OpportunityID string    `json:"opportunity_id"`
	Title         string    `json:"title"`
	ShiftID       string    `json:"shift_id"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Score         int       `json:"score"`
	Reasons       []string  `json:"reasons"`
}

// indexSource feeds the match cache from the store.
type indexSource struct{ s *Service }

// Version is the store's index version, moved by every write the index depends on.
func (src indexSource) Version(ctx context.Context) (int64, error) { return src.s.st.version(ctx) }

// Profiles loads every profile and held place: commitments for overlaps and weekly
// hours, and within the history window the hours attended (fairness) and no-shows
// (reliability).
func (src indexSource) Profiles(ctx context.Context, now time.Time) ([]match.Profile, error) {
	s := src.s
	rows, err := s.st.allProfiles(ctx)
	if err != nil {
		return nil, err
	}
	held, err := s.st.heldPlaces(ctx)
	if err != nil {
		return nil, err
	}
	profiles := make([]match.Profile, len(rows))
	byID := make(map[string]int, len(rows))
	for i, r := range rows {
		profiles[i] = matchProfile(r.profile())
		byID[r.UserID] = i
	}
	since := now.Add(-s.cfg.HistoryWindow)
	for _, h := range held {
		i, ok := byID[h.VolunteerID]
		if !ok {
			continue
		}
		mp := &profiles[i]
		start, end := fromUS(h.StartsAt), fromUS(h.EndsAt)
		mp.Commitments = append(mp.Commitments, match.Interval{Start: start, End: end})
		if start.Before(since) {
			continue
		}
		switch h.Status {
		case StatusAttended:
			mp.RecentHours += time.Duration(h.Minutes) * time.Minute
		case StatusNoShow:
			mp.NoShows++
		}
	}
	return profiles, nil
}

// Matches ranks the volunteers eligible for one shift, best first, with reasons. Only
// IDs, scores and reasons are shown: the profile itself is visible to the organiser only
// once the volunteer applied or was invited.
func (s *Service) Matches(ctx context.Context, p sdk.Principal, oppID, shiftID string, limit int) ([]MatchCandidate, error) {
	o, err := s.organiser(ctx, p, oppID)
	if err != nil {
		return nil, err
	}
	if _, err := findShift(o, shiftID); err != nil {
		return nil, err
	}
	return s.rank(ctx, p.Locale, o, shiftID, limit)
}

func (s *Service) rank(ctx context.Context, locale string, o Opportunity, shiftID string, limit int) ([]MatchCandidate, error) {
	c, err := s.index.Get(ctx)
	if err != nil {
		return nil, err
	}
	lb, err := s.labels(ctx, locale)
	if err != nil {
		return nil, err
	}
	mo := matchOpportunity(o)
	got, err := c.Rank(&mo, shiftID, match.Options{Labels: lb, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("rank: %w", err)
	}
	out := make([]MatchCandidate, len(got))
	for i, g := range got {
		out[i] = MatchCandidate{VolunteerID: g.VolunteerID, Score: g.Score, Reasons: nonNil(g.Reasons)}
	}
	return out, nil
}

// Recommendations lists open shifts the caller may take, best first, leaving out shifts
// they already signed up for.
func (s *Service) Recommendations(ctx context.Context, p sdk.Principal, limit int) ([]Recommendation, error) {
	if err := requireUser(p); err != nil {
		return nil, err
	}
	if _, err := s.st.profile(ctx, s.st.db, p.UserID); err != nil {
		return nil, err
	}
	c, err := s.index.Get(ctx)
	if err != nil {
		return nil, err
	}
	opps, err := s.st.openOpportunities(ctx, s.clock())
	if err != nil {
		return nil, err
	}
	mine, err := s.st.applicationsBy(ctx, s.st.db, p.UserID)
	if err != nil {
		return nil, err
	}
	applied := map[string]bool{}
	for _, a := range mine {
		applied[a.ShiftID] = true
	}
	byID := map[string]Opportunity{}
	mopps := make([]match.Opportunity, 0, len(opps))
	for _, o := range opps {
		byID[o.ID] = o
		mo := matchOpportunity(o)
		mo.Shifts = slices.DeleteFunc(mo.Shifts, func(sh match.Shift) bool { return applied[sh.ID] })
		mopps = append(mopps, mo)
	}
	lb, err := s.labels(ctx, p.Locale)
	if err != nil {
		return nil, err
	}
	got, err := c.Recommend(p.UserID, mopps, match.Options{Labels: lb, Limit: limit, Now: s.clock()})
	if errors.Is(err, match.ErrUnknownVolunteer) {
		// The profile was created after the cached index was read.
		return []Recommendation{}, nil
	} else if err != nil {
		return nil, fmt.Errorf("recommend: %w", err)
	}
	out := make([]Recommendation, len(got))
	for i, g := range got {
		o := byID[g.OpportunityID]
		sh, _ := findShift(o, g.ShiftID)
		out[i] = Recommendation{OpportunityID: o.ID, Title: o.Title, ShiftID: sh.ID, Start: sh.Start, End: sh.End,
			Score: g.Score, Reasons: nonNil(g.Reasons)}
	}
	return out, nil
}

// matchProfile compiles a stored profile. The stored values were validated on the way in,
// so a value that does not parse (which would need a hand-edited row) is skipped rather
// than failing every ranking.
func matchProfile(p Profile) match.Profile {
	mp := match.Profile{
		ID: p.UserID, Skills: p.Skills, Tags: p.Tags, Languages: p.Languages,
		Neighbourhoods: p.Neighbourhoods, MaxWeekly: time.Duration(p.MaxHoursPerWeek) * time.Hour,
		Check: match.BackgroundCheck{Status: checkStatus[p.BackgroundCheck.Status]},
	}
	for _, w := range p.Availability {
		if mw, err := parseWindow(w); err == nil {
			mp.Weekly = append(mp.Weekly, mw)
		}
	}
	for _, d := range p.UnavailableDates {
		if md, err := parseDate(d); err == nil {
			mp.Unavailable = append(mp.Unavailable, md)
		}
	}
	mp.BirthDate, _ = parseDate(p.BirthDate)
	if p.BackgroundCheck.Expires != "" {
		mp.Check.Expires, _ = parseDate(p.BackgroundCheck.Expires)
	}
	return mp
}

func matchOpportunity(o Opportunity) match.Opportunity {
	mo := match.Opportunity{
		ID: o.ID, Neighbourhood: o.NeighbourhoodID, Required: o.RequiredSkills,
		Preferred: o.PreferredSkills, Languages: o.Languages, MinAge: o.MinAge, NeedsCheck: o.NeedsBackgroundCheck,
	}
	for _, sh := range o.Shifts {
		mo.Shifts = append(mo.Shifts, match.Shift{ID: sh.ID, Start: sh.Start, End: sh.End, Capacity: sh.Capacity, Taken: sh.Taken})
	}
	return mo
}
