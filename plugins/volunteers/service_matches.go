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

type indexCache struct {
	version  int64
	built    time.Time
	ix       *match.Index
	profiles map[string]*match.Profile
}

// index returns the match index over every profile. The index is out of date when the
// stored version moved (any node changed a profile or a commitment) or the TTL ran out
// ("recent hours" move with the clock). A small out-of-date index (under
// Config.InlineRebuildProfiles) is rebuilt by the request; a large one is rebuilt by
// one background goroutine while requests keep getting the previous index, so a write
// never makes the next matches request wait seconds (stale-while-revalidate).
//
// Staleness is bounded: a rebuild reads everything committed before it starts, and the
// first request after a rebuild that missed a write starts the next one, so a ranking
// reflects every write older than about two build times (≈10 s for 100,000 profiles on
// a 2-vCPU machine). Only the ranking can be stale; the rules that guard bookings are
// checked against the database in the booking transaction (see eligible and take).
func (s *Service) index(ctx context.Context) (*indexCache, error) {
	v, err := s.st.version(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	s.mu.Lock()
	c := s.cache
	if c != nil && s.fresh(c, v, now) {
		s.mu.Unlock()
		return c, nil
	}
	if c != nil && c.ix.Len() >= s.cfg.InlineRebuildProfiles && s.bg.Err() == nil {
		if !s.rebuilding {
			s.rebuilding = true
			s.bgDone.Add(1)
			go s.rebuildInBackground()
		}
		s.mu.Unlock()
		return c, nil
	}
	s.mu.Unlock()

	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	s.mu.Lock()
	c = s.cache
	s.mu.Unlock()
	if c != nil && s.fresh(c, v, now) { // built by another request meanwhile
		return c, nil
	}
	return s.rebuild(ctx)
}

func (s *Service) fresh(c *indexCache, v int64, now time.Time) bool {
	return c.version == v && now.Sub(c.built) < s.cfg.IndexTTL && !now.Before(c.built)
}

// rebuildInBackground rebuilds the index once, detached from any request.
func (s *Service) rebuildInBackground() {
	defer s.bgDone.Done()
	defer func() {
		s.mu.Lock()
		s.rebuilding = false
		s.mu.Unlock()
	}()
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	if _, err := s.rebuild(s.bg); err != nil && s.bg.Err() == nil {
		s.logger.Error("rebuild match index", "error", err)
	}
}

// rebuild loads every profile and held place and builds a new index; the caller holds
// buildMu. The version is read first, so a write racing the load only causes one more
// rebuild later, never a missed one.
func (s *Service) rebuild(ctx context.Context) (*indexCache, error) {
	t0 := time.Now()
	v, err := s.st.version(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock()
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
		start, end := parseTS(h.StartsAt), parseTS(h.EndsAt)
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
	ix, err := match.NewIndex(s.cfg.Location, profiles)
	if err != nil {
		return nil, fmt.Errorf("build match index: %w", err)
	}
	c := &indexCache{version: v, built: now, ix: ix, profiles: make(map[string]*match.Profile, len(profiles))}
	for i := range profiles {
		c.profiles[profiles[i].ID] = &profiles[i]
	}
	s.logger.Debug("match index built", "profiles", len(profiles), "took", time.Since(t0))
	s.mu.Lock()
	if s.cache == nil || s.cache.version <= c.version {
		s.cache = c
	}
	s.mu.Unlock()
	return c, nil
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
	c, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	lb, err := s.labels(ctx, locale)
	if err != nil {
		return nil, err
	}
	mo := matchOpportunity(o)
	got, err := c.ix.Rank(&mo, shiftID, match.Options{Labels: lb, Limit: limit})
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
	c, err := s.index(ctx)
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
	got, err := c.ix.Recommend(p.UserID, mopps, match.Options{Labels: lb, Limit: limit, Now: s.clock()})
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
