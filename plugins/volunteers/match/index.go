package match

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Errors returned for unknown IDs, so callers can answer "not found".
var (
	ErrUnknownVolunteer = errors.New("match: unknown volunteer")
	ErrUnknownShift     = errors.New("match: unknown shift")
)

const (
	daySec  = 86400
	weekSec = 7 * daySec
)

// span is a half-open range of seconds on the weekly wall-clock line, where 0
// is Sunday 00:00 (time.Weekday order).
type span struct{ a, b int64 }

// weekHours is the committed time in one ISO week.
type weekHours struct {
	week int32
	sec  int64
}

// rec is the compiled form of a Profile: interned IDs and integer times, so
// that checking one candidate is a handful of comparisons.
type rec struct {
	p           *Profile
	skills      []uint64 // bitset over skill numbers
	langs       []int32  // sorted
	nbhs        []int32  // sorted
	birth       Date
	checkOK     bool
	checkExp    int64 // day number; max when it never expires
	weekly      []span
	unavailable []int64 // sorted day numbers
	commits     []span  // unix seconds
	weeks       []weekHours
	maxWeekly   int64 // seconds; 0 = no limit
}

// Index holds compiled profiles for one city. Build it with [NewIndex]; it
// is immutable and safe for concurrent use.
type Index struct {
	loc      *time.Location
	recs     []rec // sorted by volunteer ID
	byID     map[string]int
	skillNo  map[string]int32
	langNo   map[string]int32
	nbhNo    map[string]int32
	postings [][]int32 // skill number -> record numbers holding it, ascending
	words    int
}

// NewIndex compiles profiles for a city whose time zone is loc. Profiles
// are copied by reference: the caller must not change them afterwards.
func NewIndex(loc *time.Location, profiles []Profile) (*Index, error) {
	if loc == nil {
		return nil, errors.New("match: nil location")
	}
	ix := &Index{
		loc:     loc,
		byID:    make(map[string]int, len(profiles)),
		skillNo: map[string]int32{},
		langNo:  map[string]int32{},
		nbhNo:   map[string]int32{},
	}
	order := make([]int, len(profiles))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(profiles[a].ID, profiles[b].ID) })
	for _, i := range order {
		for _, s := range profiles[i].Skills {
			if _, ok := ix.skillNo[s]; !ok {
				ix.skillNo[s] = int32(len(ix.skillNo))
			}
		}
	}
	ix.words = (len(ix.skillNo) + 63) / 64
	ix.postings = make([][]int32, len(ix.skillNo))
	backing := make([]uint64, ix.words*len(profiles))
	ix.recs = make([]rec, len(profiles))
	for n, i := range order {
		p := &profiles[i]
		if p.ID == "" {
			return nil, errors.New("match: profile without ID")
		}
		if _, dup := ix.byID[p.ID]; dup {
			return nil, fmt.Errorf("match: duplicate profile %q", p.ID)
		}
		ix.byID[p.ID] = n
		r, err := ix.compile(p, backing[n*ix.words:(n+1)*ix.words:(n+1)*ix.words])
		if err != nil {
			return nil, fmt.Errorf("match: profile %q: %w", p.ID, err)
		}
		ix.recs[n] = r
		for _, s := range p.Skills {
			k := ix.skillNo[s]
			if l := ix.postings[k]; len(l) == 0 || l[len(l)-1] != int32(n) {
				ix.postings[k] = append(l, int32(n))
			}
		}
	}
	return ix, nil
}

// Len reports how many profiles the index holds.
func (ix *Index) Len() int { return len(ix.recs) }

func intern(m map[string]int32, ids []string) []int32 {
	out := make([]int32, 0, len(ids))
	for _, id := range ids {
		k, ok := m[id]
		if !ok {
			k = int32(len(m))
			m[id] = k
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (ix *Index) compile(p *Profile, bitset []uint64) (rec, error) {
	r := rec{p: p, skills: bitset, birth: p.BirthDate, maxWeekly: int64(p.MaxWeekly / time.Second)}
	for _, s := range p.Skills {
		k := ix.skillNo[s]
		r.skills[k/64] |= 1 << (k % 64)
	}
	r.langs = intern(ix.langNo, p.Languages)
	r.nbhs = intern(ix.nbhNo, p.Neighbourhoods)
	r.checkOK = p.Check.Status == CheckCleared
	r.checkExp = 1 << 62
	if p.Check.Expires != (Date{}) {
		r.checkExp = p.Check.Expires.days()
	}
	var spans []span
	for _, w := range p.Weekly {
		if w.Day < time.Sunday || w.Day > time.Saturday || w.Start < 0 || w.Start >= 24*time.Hour ||
			w.End < 0 || w.End > 24*time.Hour {
			return rec{}, fmt.Errorf("bad availability window %+v", w)
		}
		a := int64(w.Day)*daySec + int64(w.Start/time.Second)
		b := int64(w.Day)*daySec + int64(w.End/time.Second)
		if b <= a {
			b += daySec // overnight
		}
		// Copies one week either side make the line circular for queries
		// anywhere in [0, weekSec).
		for _, off := range []int64{-weekSec, 0, weekSec} {
			spans = append(spans, span{a + off, b + off})
		}
	}
	slices.SortFunc(spans, func(x, y span) int { return cmp.Compare(x.a, y.a) })
	for _, s := range spans {
		if n := len(r.weekly); n > 0 && s.a <= r.weekly[n-1].b {
			r.weekly[n-1].b = max(r.weekly[n-1].b, s.b)
			continue
		}
		r.weekly = append(r.weekly, s)
	}
	for _, d := range p.Unavailable {
		r.unavailable = append(r.unavailable, d.days())
	}
	slices.Sort(r.unavailable)
	for _, c := range p.Commitments {
		if !c.End.After(c.Start) {
			return rec{}, fmt.Errorf("empty commitment %v", c)
		}
		r.commits = append(r.commits, span{c.Start.Unix(), c.End.Unix()})
		wk := ix.isoWeek(c.Start)
		sec := c.End.Unix() - c.Start.Unix()
		if i := slices.IndexFunc(r.weeks, func(w weekHours) bool { return w.week == wk }); i >= 0 {
			r.weeks[i].sec += sec
		} else {
			r.weeks = append(r.weeks, weekHours{wk, sec})
		}
	}
	return r, nil
}

func (ix *Index) isoWeek(t time.Time) int32 {
	y, w := t.In(ix.loc).ISOWeek()
	return int32(y*64 + w)
}

// piece is a stretch of a shift within one local date and one zone offset,
// so its wall-clock time runs without jumps.
type piece struct {
	wk  int64 // wall-clock start on the weekly line
	len int64 // seconds
	day int64 // local date
}

// query is a shift compiled against the index, computed once per ranking.
type query struct {
	opp       *Opportunity
	sh        *Shift
	start     int64
	end       int64
	dur       int64
	startDate Date
	lastDay   int64
	week      int32
	pieces    []piece
	req       []int32
	reqKnown  bool
	reqMask   []uint64
	pref      []int32
	langs     []int32
	nbh       int32
	localHour int
	weekday   time.Weekday
}

func (ix *Index) compileQuery(opp *Opportunity, sh *Shift) (*query, error) {
	if !sh.End.After(sh.Start) {
		return nil, fmt.Errorf("match: shift %q ends before it starts", sh.ID)
	}
	q := &query{opp: opp, sh: sh, start: sh.Start.Unix(), end: sh.End.Unix(), reqKnown: true, nbh: -1}
	q.dur = q.end - q.start
	ls := sh.Start.In(ix.loc)
	q.startDate = DateOf(ls, ix.loc)
	q.lastDay = DateOf(time.Unix(q.end-1, 0), ix.loc).days()
	q.week = ix.isoWeek(sh.Start)
	q.localHour = ls.Hour()
	q.weekday = ls.Weekday()
	q.pieces = ix.pieces(sh.Start, sh.End)
	q.reqMask = make([]uint64, ix.words)
	for _, s := range opp.Required {
		k, ok := ix.skillNo[s]
		if !ok {
			q.reqKnown = false
			continue
		}
		q.req = append(q.req, k)
		q.reqMask[k/64] |= 1 << (k % 64)
	}
	for _, s := range opp.Preferred {
		if k, ok := ix.skillNo[s]; ok {
			q.pref = append(q.pref, k)
		}
	}
	for _, l := range opp.Languages {
		if k, ok := ix.langNo[l]; ok {
			q.langs = append(q.langs, k)
		}
	}
	slices.Sort(q.langs)
	q.langs = slices.Compact(q.langs)
	if k, ok := ix.nbhNo[opp.Neighbourhood]; ok {
		q.nbh = k
	}
	return q, nil
}

// pieces splits [start, end) at local midnights and at UTC-offset changes.
// Within a piece the wall clock advances exactly with real time, so
// availability can be checked on wall-clock seconds even on the days the
// clocks go forward or back.
func (ix *Index) pieces(start, end time.Time) []piece {
	var out []piece
	t := time.Unix(start.Unix(), 0).In(ix.loc)
	stopAt := time.Unix(end.Unix(), 0)
	for t.Before(stopAt) {
		y, m, d := t.Date()
		stop := time.Date(y, m, d+1, 0, 0, 0, 0, ix.loc)
		if !stop.After(t) { // a zone that skips midnight
			stop = t.Add(24 * time.Hour)
		}
		if _, zEnd := t.ZoneBounds(); !zEnd.IsZero() && zEnd.Before(stop) {
			stop = zEnd
		}
		if stopAt.Before(stop) {
			stop = stopAt
		}
		h, mi, s := t.Clock()
		out = append(out, piece{
			wk:  int64(t.Weekday())*daySec + int64(h*3600+mi*60+s),
			len: stop.Unix() - t.Unix(),
			day: Date{y, m, d}.days(),
		})
		t = stop.In(ix.loc)
	}
	return out
}

// ageOn returns the age in whole years on date on. Someone born on 29
// February becomes a year older on 1 March in common years, the usual legal
// reading in the Nordic countries and Turkey.
func ageOn(birth, on Date) int {
	age := on.Year - birth.Year
	if on.Month < birth.Month || (on.Month == birth.Month && on.Day < birth.Day) {
		age--
	}
	return age
}

func (r *rec) covered(p piece) bool {
	for _, s := range r.weekly {
		if s.a <= p.wk && p.wk+p.len <= s.b {
			return true
		}
		if s.a > p.wk {
			break
		}
	}
	return false
}

// fails evaluates the hard rules. With all=false it stops at the first
// failure, which is all ranking needs; the mask has bit i set for rules[i].
func (r *rec) fails(q *query, all bool) uint8 {
	var m uint8
	bad := func(i int) bool { m |= 1 << i; return !all }
	if q.opp.MinAge > 0 && ageOn(r.birth, q.startDate) < q.opp.MinAge && bad(0) {
		return m
	}
	if q.opp.NeedsCheck && (!r.checkOK || r.checkExp < q.lastDay) && bad(1) {
		return m
	}
	if !r.hasRequired(q) && bad(2) {
		return m
	}
	for _, p := range q.pieces {
		if !r.covered(p) {
			if bad(3) {
				return m
			}
			break
		}
	}
	for _, p := range q.pieces {
		if _, found := slices.BinarySearch(r.unavailable, p.day); found {
			if bad(4) {
				return m
			}
			break
		}
	}
	for _, c := range r.commits {
		if c.a < q.end && q.start < c.b {
			if bad(5) {
				return m
			}
			break
		}
	}
	if r.maxWeekly > 0 {
		used := q.dur
		for _, w := range r.weeks {
			if w.week == q.week {
				used += w.sec
			}
		}
		if used > r.maxWeekly && bad(6) {
			return m
		}
	}
	return m
}

func (r *rec) hasRequired(q *query) bool {
	if !q.reqKnown {
		return false
	}
	for i, w := range q.reqMask {
		if r.skills[i]&w != w {
			return false
		}
	}
	return true
}

var rules = [...]Rule{RuleAge, RuleBackgroundCheck, RuleRequiredSkills, RuleAvailability,
	RuleDateUnavailable, RuleOverlap, RuleWeeklyHours}

func maskRules(m uint8) []Rule {
	var out []Rule
	for i, r := range rules {
		if m&(1<<i) != 0 {
			out = append(out, r)
		}
	}
	return out
}

func countCommon(a, b []int32) int {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			n++
			i++
			j++
		}
	}
	return n
}

func (r *rec) hasSkill(k int32) bool { return r.skills[k/64]&(1<<(k%64)) != 0 }

func (r *rec) score(q *query, w *Weights) int {
	s := 0
	for _, k := range q.pref {
		if r.hasSkill(k) {
			s += w.PreferredSkill
		}
	}
	s += w.Language * countCommon(r.langs, q.langs)
	if q.nbh >= 0 {
		if _, ok := slices.BinarySearch(r.nbhs, q.nbh); ok {
			s += w.Neighbourhood
		}
	}
	s += fairness(r.p.RecentHours, w)
	s -= min(w.MaxNoShow, w.NoShow*r.p.NoShows)
	return s
}

func fairness(recent time.Duration, w *Weights) int {
	if w.FairnessStep <= 0 {
		return w.Fairness
	}
	return max(0, w.Fairness-int(recent/w.FairnessStep))
}

func partOfDay(h int) string {
	switch {
	case h >= 5 && h < 12:
		return "morning"
	case h >= 12 && h < 17:
		return "afternoon"
	case h >= 17 && h < 22:
		return "evening"
	}
	return "night"
}

// reasons explains the score in the order a coordinator reads it: what the
// person brings (languages, skills), that the time suits them, then where
// and how fairly work is spread. Each reason is a code with its data, which a
// page words in its reader's language, and an English phrase for the API.
func (ix *Index) reasons(r *rec, q *query, w *Weights, lb *Labels) ([]string, []Reason) {
	var codes []Reason
	for _, l := range r.p.Languages {
		if k, ok := ix.langNo[l]; ok && slices.Contains(q.langs, k) && w.Language != 0 {
			codes = append(codes, Reason{Kind: ReasonSpeaks, Value: l})
		}
	}
	codes = slices.Compact(codes)
	if w.PreferredSkill != 0 {
		seen := map[string]bool{}
		for _, s := range q.opp.Preferred {
			if k, ok := ix.skillNo[s]; ok && r.hasSkill(k) && !seen[s] {
				seen[s] = true
				codes = append(codes, Reason{Kind: ReasonSkill, Value: s})
			}
		}
	}
	codes = append(codes, Reason{Kind: ReasonFree, Value: strings.ToLower(q.weekday.String()), Part: partOfDay(q.localHour)})
	if q.nbh >= 0 && w.Neighbourhood != 0 {
		if _, ok := slices.BinarySearch(r.nbhs, q.nbh); ok {
			codes = append(codes, Reason{Kind: ReasonNeighbourhood})
		}
	}
	if w.Fairness > 0 {
		switch f := fairness(r.p.RecentHours, w); {
		case r.p.RecentHours <= 0:
			codes = append(codes, Reason{Kind: ReasonNoRecent})
		case f*2 >= w.Fairness:
			codes = append(codes, Reason{Kind: ReasonFewRecent})
		}
	}
	if r.p.NoShows > 0 && w.NoShow != 0 {
		codes = append(codes, Reason{Kind: ReasonMissed, N: r.p.NoShows})
	}
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = c.English(lb)
	}
	return out, codes
}

// Options tune ranking and explanations. The zero value is usable.
type Options struct {
	// Weights for the score; the zero value means DefaultWeights.
	Weights Weights
	// Labels supply display names for reasons.
	Labels Labels
	// Limit caps the number of results; 0 means all. Reasons are only built
	// for returned results, so a limit keeps large rankings cheap.
	Limit int
	// Now is the current time, used by Recommend to skip shifts that have
	// started. The engine never reads the clock itself.
	Now time.Time
	// After, when set, keeps only the results ranked after it — the last
	// result of the previous page — so a ranking can be read page by page:
	// Rank compares Score and VolunteerID, Recommend Score, Start,
	// OpportunityID and ShiftID, the orders they return.
	After *Candidate
}

func (o *Options) weights() *Weights {
	if o.Weights == (Weights{}) {
		return &DefaultWeights
	}
	return &o.Weights
}

func findShift(opp *Opportunity, shiftID string) (*Shift, error) {
	for i := range opp.Shifts {
		if opp.Shifts[i].ID == shiftID {
			return &opp.Shifts[i], nil
		}
	}
	return nil, fmt.Errorf("%w %q in opportunity %q", ErrUnknownShift, shiftID, opp.ID)
}

// Explain evaluates every hard rule for one volunteer and shift and, when
// all pass, the score with its reasons.
func (ix *Index) Explain(volunteerID string, opp *Opportunity, shiftID string, opt Options) (Verdict, error) {
	n, ok := ix.byID[volunteerID]
	if !ok {
		return Verdict{}, fmt.Errorf("%w %q", ErrUnknownVolunteer, volunteerID)
	}
	sh, err := findShift(opp, shiftID)
	if err != nil {
		return Verdict{}, err
	}
	q, err := ix.compileQuery(opp, sh)
	if err != nil {
		return Verdict{}, err
	}
	r := &ix.recs[n]
	v := Verdict{Candidate: Candidate{VolunteerID: volunteerID, OpportunityID: opp.ID, ShiftID: sh.ID}}
	if m := r.fails(q, true); m != 0 {
		v.Failed = maskRules(m)
		return v, nil
	}
	w := opt.weights()
	v.Eligible = true
	v.Score = r.score(q, w)
	v.Reasons, v.Codes = ix.reasons(r, q, w, &opt.Labels)
	return v, nil
}

type scored struct {
	n     int32
	score int32
}

// Rank returns the volunteers eligible for one shift, best first. Equal
// scores are ordered by volunteer ID, so the order is total and repeatable.
func (ix *Index) Rank(opp *Opportunity, shiftID string, opt Options) ([]Candidate, error) {
	sh, err := findShift(opp, shiftID)
	if err != nil {
		return nil, err
	}
	q, err := ix.compileQuery(opp, sh)
	if err != nil {
		return nil, err
	}
	if !q.reqKnown {
		return nil, nil // nobody holds a skill that nobody has
	}
	w := opt.weights()
	var found []scored
	visit := func(n int32) {
		r := &ix.recs[n]
		if r.fails(q, false) != 0 {
			return
		}
		s := r.score(q, w)
		if a := opt.After; a != nil && (s > a.Score || s == a.Score && r.p.ID <= a.VolunteerID) {
			return // on an earlier page
		}
		found = append(found, scored{n, int32(s)})
	}
	if len(q.req) == 0 {
		for n := range ix.recs {
			visit(int32(n))
		}
	} else {
		// Walk the rarest required skill's posting list; the bitset test in
		// fails covers the other required skills.
		best := ix.postings[q.req[0]]
		for _, k := range q.req[1:] {
			if l := ix.postings[k]; len(l) < len(best) {
				best = l
			}
		}
		for _, n := range best {
			visit(n)
		}
	}
	// Records are numbered in ID order, so comparing numbers breaks ties by ID.
	cmpScored := func(a, b scored) int {
		if a.score != b.score {
			return cmp.Compare(b.score, a.score)
		}
		return cmp.Compare(a.n, b.n)
	}
	if opt.Limit > 0 && opt.Limit < len(found) {
		found = topK(found, opt.Limit, cmpScored)
	} else {
		slices.SortFunc(found, cmpScored)
	}
	out := make([]Candidate, len(found))
	for i, f := range found {
		r := &ix.recs[f.n]
		out[i] = Candidate{VolunteerID: r.p.ID, OpportunityID: opp.ID, ShiftID: sh.ID, Start: sh.Start,
			Score: int(f.score)}
		out[i].Reasons, out[i].Codes = ix.reasons(r, q, w, &opt.Labels)
	}
	return out, nil
}

// topK returns the k smallest elements under c, sorted, without sorting the
// rest: a bounded max-heap would do too, but a partial sort is simpler.
func topK(s []scored, k int, c func(a, b scored) int) []scored {
	h := slices.Clone(s[:k])
	slices.SortFunc(h, c)
	for _, x := range s[k:] {
		if c(x, h[k-1]) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(h, x, c)
		copy(h[i+1:], h[i:k-1])
		h[i] = x
	}
	return h
}

// Recommend lists the shifts one volunteer may take, best first: score
// descending, then earlier start, then opportunity ID and shift ID. Shifts
// that start before opt.Now or are already full are skipped.
func (ix *Index) Recommend(volunteerID string, opps []Opportunity, opt Options) ([]Candidate, error) {
	n, ok := ix.byID[volunteerID]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownVolunteer, volunteerID)
	}
	r := &ix.recs[n]
	w := opt.weights()
	type hit struct {
		c Candidate
		q *query
	}
	var hits []hit
	for i := range opps {
		opp := &opps[i]
		for j := range opp.Shifts {
			sh := &opp.Shifts[j]
			if sh.Start.Before(opt.Now) || (sh.Capacity > 0 && sh.Taken >= sh.Capacity) {
				continue
			}
			q, err := ix.compileQuery(opp, sh)
			if err != nil {
				return nil, err
			}
			if r.fails(q, false) != 0 {
				continue
			}
			c := Candidate{VolunteerID: volunteerID, OpportunityID: opp.ID, ShiftID: sh.ID, Start: sh.Start,
				Score: r.score(q, w)}
			if opt.After != nil && recommendOrder(c, *opt.After) <= 0 {
				continue // on an earlier page
			}
			hits = append(hits, hit{c, q})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int { return recommendOrder(a.c, b.c) })
	if opt.Limit > 0 && len(hits) > opt.Limit {
		hits = hits[:opt.Limit]
	}
	out := make([]Candidate, len(hits))
	for i, h := range hits {
		out[i] = h.c
		out[i].Reasons, out[i].Codes = ix.reasons(r, h.q, w, &opt.Labels)
	}
	return out, nil
}

// recommendOrder is Recommend's order: score descending, then earlier start, then
// opportunity ID and shift ID.
func recommendOrder(a, b Candidate) int {
	if a.Score != b.Score {
		return cmp.Compare(b.Score, a.Score)
	}
	if c := a.Start.Compare(b.Start); c != 0 {
		return c
	}
	if c := cmp.Compare(a.OpportunityID, b.OpportunityID); c != 0 {
		return c
	}
	return cmp.Compare(a.ShiftID, b.ShiftID)
}
