package volunteers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/kvarter/kvarter/plugins/volunteers/match"
	"github.com/kvarter/kvarter/sdk"
)

// PublicFilter narrows the public list of opportunities. Every field is optional.
type PublicFilter struct {
	// NeighbourhoodID keeps opportunities in that neighbourhood.
	NeighbourhoodID string
	// Skill keeps opportunities asking for the skill (required or preferred).
	Skill string
	// From and To keep opportunities with a shift starting on a local date in
	// [From, To]; zero for no bound.
	From, To match.Date
	// Age keeps opportunities whose minimum age is at most Age ("I am 16, what can I
	// do"); 0 for no bound.
	Age int
	// Newcomers keeps opportunities that welcome newcomers.
	Newcomers bool
}

// publicFilter reads a PublicFilter from the query; bad values answer 422 naming the
// parameter.
func publicFilter(r *http.Request) (PublicFilter, error) {
	q := r.URL.Query()
	f := PublicFilter{NeighbourhoodID: q.Get("neighbourhood_id"), Skill: q.Get("skill")}
	var bad fields
	if len(f.NeighbourhoodID) > 64 {
		bad.add("neighbourhood_id", "must be at most 64 characters", sdk.RuleRange)
	}
	if f.Skill != "" && !validSlug(f.Skill) {
		bad.add("skill", "must be a skill ID: 1-64 characters of a-z, 0-9, _ and -", RuleFormat)
	}
	for _, d := range []struct {
		name string
		to   *match.Date
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(d.name); v != "" {
			date, err := parseDate(v)
			if err != nil {
				bad.add(d.name, err.Error(), RuleFormat)
				continue
			}
			*d.to = date
		}
	}
	if v := q.Get("age"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 150 {
			bad.add("age", "must be a whole number of years from 1 to 150", sdk.RuleRange)
		}
		f.Age = n
	}
	switch v := q.Get("newcomers"); v {
	case "", "false":
	case "true":
		f.Newcomers = true
	default:
		bad.add("newcomers", "must be true or false", RuleEnum)
	}
	return f, bad.err("invalid filter")
}

// publicParams document the public list's filters.
var publicParams = []sdk.Param{
	{Name: "neighbourhood_id", Description: "Only opportunities in this neighbourhood"},
	{Name: "skill", Description: "Only opportunities asking for this skill ID (required or preferred)", Example: "first_aid"},
	{Name: "from", Format: "date", Description: "Only opportunities with a shift starting on or after this local date", Example: "2025-06-07"},
	{Name: "to", Format: "date", Description: "Only opportunities with a shift starting on or before this local date", Example: "2025-06-30"},
	{Name: "age", Type: "integer", Description: "Only opportunities open at this age: the minimum age is at most this", Example: "16"},
	{Name: "newcomers", Type: "boolean", Description: "true: only opportunities that welcome newcomers (no experience needed)"},
}

// PublicOpportunities lists, to anyone and without sign-in, the published opportunities
// with a shift still to come, in creation order, narrowed by f. Each shows its shifts
// with the free places; nothing in it is personal.
func (s *Service) PublicOpportunities(ctx context.Context, f PublicFilter, q sdk.ListQuery) (sdk.Page[Opportunity], error) {
	now := s.clock()
	from, to := now, time.Time{}
	if f.From != (match.Date{}) {
		if t := dayStart(f.From, 0, s.cfg.Location); t.After(from) {
			from = t
		}
	}
	if f.To != (match.Date{}) {
		to = dayStart(f.To, 1, s.cfg.Location)
	}
	items, err := s.st.publicOpportunities(ctx, f, from, to, q)
	if err != nil {
		return sdk.Page[Opportunity]{}, err
	}
	return sdk.NewPage(items, q, func(o Opportunity) []any { return []any{o.ID} }), nil
}

// PublicOpportunity returns one published or closed opportunity to anyone, without
// sign-in; a draft or a cancelled one is "not found", so a draft's existence does not
// leak.
func (s *Service) PublicOpportunity(ctx context.Context, id string) (Opportunity, error) {
	o, err := s.st.opportunity(ctx, s.st.db, id)
	if err != nil {
		return Opportunity{}, err
	}
	if o.State != StatePublished && o.State != StateClosed {
		return Opportunity{}, sdk.Errorf(sdk.CodeNotFound, "opportunity %s not found", id)
	}
	return o, nil
}

// dayStart is local midnight days after d.
func dayStart(d match.Date, days int, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day+days, 0, 0, 0, 0, loc)
}
