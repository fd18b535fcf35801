package volunteers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kvarter/kvarter/plugins/volunteers/match"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// MatchCandidate is one eligible volunteer for a shift with the reasons for the score.
type MatchCandidate struct {
	VolunteerID string   `json:"volunteer_id"`
	Score       int      `json:"score" doc:"Higher is better; ties go by volunteer ID"`
	Reasons     []string `json:"reasons" nullable:"false" doc:"Why, in plain English words, most important first"`
	// ReasonCodes are the same reasons as codes with data, for a page to word in its
	// reader's language.
	ReasonCodes []match.Reason `json:"reason_codes" nullable:"false" doc:"The reasons as codes with data, to word in any language"`
}

// Recommendation is one shift a volunteer may take.
type Recommendation struct {
	OpportunityID string    `json:"opportunity_id" format:"uuid"`
	Title         string    `json:"title"`
	ShiftID       string    `json:"shift_id" format:"uuid"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Score         int       `json:"score"`
	Reasons       []string  `json:"reasons" nullable:"false" doc:"Why, in plain English words, most important first"`
	// ReasonCodes are the reasons as codes with data.
	ReasonCodes []match.Reason `json:"reason_codes" nullable:"false" doc:"The reasons as codes with data, to word in any language"`
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
		start, end := h.StartsAt.Time, h.EndsAt.Time
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
//
// Pages are keyset pages of the ranking (score, then volunteer ID): a volunteer whose
// profile appears meanwhile takes their place in it without moving the others.
func (s *Service) Matches(ctx context.Context, p sdk.Principal, oppID, shiftID string, q sdk.ListQuery) (sdk.Page[MatchCandidate], error) {
	o, err := s.organiser(ctx, p, oppID)
	if err != nil {
		return sdk.Page[MatchCandidate]{}, err
	}
	if _, err := findShift(o, shiftID); err != nil {
		return sdk.Page[MatchCandidate]{}, err
	}
	var after *match.Candidate
	if q.Key != nil {
		score, id, ok := keyIntString(q.Key)
		if !ok {
			return sdk.Page[MatchCandidate]{}, badCursor()
		}
		after = &match.Candidate{Score: int(score), VolunteerID: id}
	}
	c, err := s.index.Get(ctx)
	if err != nil {
		return sdk.Page[MatchCandidate]{}, err
	}
	lb, err := s.englishLabels(ctx)
	if err != nil {
		return sdk.Page[MatchCandidate]{}, err
	}
	mo := matchOpportunity(o)
	got, err := c.Rank(&mo, shiftID, match.Options{Labels: lb, Limit: q.Fetch(), After: after})
	if err != nil {
		return sdk.Page[MatchCandidate]{}, fmt.Errorf("rank: %w", err)
	}
	out := make([]MatchCandidate, len(got))
	for i, g := range got {
		out[i] = MatchCandidate{VolunteerID: g.VolunteerID, Score: g.Score, Reasons: nonNil(g.Reasons), ReasonCodes: nonNil(g.Codes)}
	}
	return sdk.NewPage(out, q, func(m MatchCandidate) []any { return []any{m.Score, m.VolunteerID} }), nil
}

// Recommendations lists open shifts the caller may take, best first (score, then the
// earlier start, then IDs), leaving out shifts they already signed up for. Pages are
// keyset pages of that order.
func (s *Service) Recommendations(ctx context.Context, p sdk.Principal, q sdk.ListQuery) (sdk.Page[Recommendation], error) {
	var none sdk.Page[Recommendation]
	if err := requireUser(p); err != nil {
		return none, err
	}
	var after *match.Candidate
	if q.Key != nil {
		k, ok := recommendationKey(q.Key)
		if !ok {
			return none, badCursor()
		}
		after = &k
	}
	if _, err := s.st.profile(ctx, s.st.db, p.UserID); err != nil {
		return none, err
	}
	c, err := s.index.Get(ctx)
	if err != nil {
		return none, err
	}
	opps, err := s.st.openOpportunities(ctx, s.clock())
	if err != nil {
		return none, err
	}
	mine, err := s.st.applicationsBy(ctx, s.st.db, p.UserID)
	if err != nil {
		return none, err
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
	lb, err := s.englishLabels(ctx)
	if err != nil {
		return none, err
	}
	got, err := c.Recommend(p.UserID, mopps, match.Options{Labels: lb, Limit: q.Fetch(), Now: s.clock(), After: after})
	if errors.Is(err, match.ErrUnknownVolunteer) {
		// The profile was created after the cached index was read.
		return sdk.NewPage([]Recommendation{}, q, nil), nil
	} else if err != nil {
		return none, fmt.Errorf("recommend: %w", err)
	}
	out := make([]Recommendation, len(got))
	for i, g := range got {
		o := byID[g.OpportunityID]
		sh, _ := findShift(o, g.ShiftID)
		out[i] = Recommendation{OpportunityID: o.ID, Title: o.Title, ShiftID: sh.ID, Start: sh.Start, End: sh.End,
			Score: g.Score, Reasons: nonNil(g.Reasons), ReasonCodes: nonNil(g.Codes)}
	}
	return sdk.NewPage(out, q, func(r Recommendation) []any {
		return []any{r.Score, store.Micros(r.Start), r.OpportunityID, r.ShiftID}
	}), nil
}

// recommendationKey reads a recommendations cursor: score, start (µs), opportunity and
// shift.
func recommendationKey(key []any) (match.Candidate, bool) {
	if len(key) != 4 {
		return match.Candidate{}, false
	}
	score, ok1 := key[0].(int64)
	start, ok2 := key[1].(int64)
	opp, ok3 := key[2].(string)
	shift, ok4 := key[3].(string)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return match.Candidate{}, false
	}
	return match.Candidate{Score: int(score), Start: store.FromMicros(start), OpportunityID: opp, ShiftID: shift}, true
}

// keyIntString reads a cursor of an integer and a string.
func keyIntString(key []any) (int64, string, bool) {
	if len(key) != 2 {
		return 0, "", false
	}
	n, ok1 := key[0].(int64)
	s, ok2 := key[1].(string)
	return n, s, ok1 && ok2
}

// badCursor answers a cursor this plugin did not make, as sdk.ListParams does.
func badCursor() error {
	e := sdk.Malformed("cursor: is not a cursor this list gave; start again without it")
	e.Fields = map[string]string{"cursor": "is not a cursor this list gave"}
	return e
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
