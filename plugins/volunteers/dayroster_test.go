package volunteers

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestService_DayRoster plans Saturday 7 June for the whole city: an organisation's
// morning shift, the city's overlapping one (five places, four people who qualify) and
// an afternoon shift. Solved one opportunity at a time the proposals name people twice;
// solved as a day, nobody is
// proposed for overlapping shifts, a 4-hour weekly limit holds across opportunities, and
// the total equals a brute-force optimum over the same candidates and scores.
func TestService_DayRoster(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		f.volunteer(t, "v1", func(in *ProfileInput) { in.MaxHoursPerWeek = 4; in.Languages = []string{"fi", "sv"} })
		f.volunteer(t, "v2", func(in *ProfileInput) { in.Skills = []string{"first_aid", "cooking"} })
		f.volunteer(t, "v3", func(in *ProfileInput) { in.Neighbourhoods = nil })
		f.volunteer(t, "v4", func(in *ProfileInput) { in.Skills = []string{"first_aid", "driving"} })
		vol := f.volunteer(t, "v5", func(in *ProfileInput) { in.Skills = nil })

		morning := f.published(t, func(in *OpportunityInput) {
			in.Title, in.RequiredSkills, in.PreferredSkills = "Market stall", []string{"first_aid"}, []string{"cooking"}
			in.Shifts = []ShiftInput{f.saturday(9, 12, 3)}
		})
		city, err := f.svc.CreateOpportunity(ctx, f.staff, OpportunityInput{Title: "City fun run", NeighbourhoodID: "nbh-1",
			RequiredSkills: []string{"first_aid"}, PreferredSkills: []string{"driving"}, Languages: []string{"sv"},
			Shifts: []ShiftInput{f.saturday(10, 13, 2)}})
		if err != nil {
			t.Fatal(err)
		}
		if city, err = f.svc.SetState(ctx, f.staff, city.ID, StatePublished); err != nil {
			t.Fatal(err)
		}
		afternoon := f.published(t, func(in *OpportunityInput) {
			in.Title, in.Shifts = "Clean-up", []ShiftInput{f.saturday(14, 17, 3)}
		})
		// Neither a draft nor another day's shift is planned.
		if _, err := f.svc.CreateOpportunity(ctx, f.rep, OpportunityInput{OrganisationID: "org-1", Title: "Draft",
			Shifts: []ShiftInput{f.saturday(9, 10, 5)}}); err != nil {
			t.Fatal(err)
		}
		sunday := f.published(t, func(in *OpportunityInput) {
			sh := f.saturday(9, 12, 5)
			start, _ := time.Parse(time.RFC3339, sh.Start)
			in.Shifts = []ShiftInput{{Start: start.AddDate(0, 0, 1).Format(time.RFC3339),
				End: start.AddDate(0, 0, 1).Add(3 * time.Hour).Format(time.RFC3339), Capacity: 5}}
		})
		opps := []Opportunity{morning, city, afternoon}

		got, err := f.svc.DayRoster(ctx, f.staff, "2025-06-07", "")
		if err != nil {
			t.Fatal(err)
		}
		if want := sortedIDs(opps); !slices.Equal(got.OpportunityIDs, want) {
			t.Errorf("opportunities %v, want %v (not the draft, not %s)", got.OpportunityIDs, want, sunday.ID)
		}
		if !got.Optimal || !got.Canonical {
			t.Errorf("not optimal: %+v", got)
		}
		shifts := map[string]Shift{}
		for _, o := range opps {
			shifts[o.Shifts[0].ID] = o.Shifts[0]
		}
		mine := map[string][]Shift{}
		for _, a := range got.Assignments {
			mine[a.VolunteerID] = append(mine[a.VolunteerID], shifts[a.ShiftID])
		}
		for v, l := range mine {
			var hours time.Duration
			for i, a := range l {
				hours += a.End.Sub(a.Start)
				for _, b := range l[i+1:] {
					if a.Start.Before(b.End) && b.Start.Before(a.End) {
						t.Errorf("%s proposed for overlapping shifts: %+v", v, got.Assignments)
					}
				}
			}
			if v == "v1" && hours > 4*time.Hour {
				t.Errorf("v1 proposed for %v, limit 4 h: %+v", hours, got.Assignments)
			}
		}
		if best := bruteForceDay(t, f, opps); got.TotalScore != best {
			t.Errorf("total %d, brute-force optimum %d: %+v", got.TotalScore, best, got.Assignments)
		}

		t.Run("PerOpportunityDoubleBooks", func(t *testing.T) {
			// The reason for the day roster: four people can do the overlapping morning
			// shifts' five places, so proposals made one opportunity at a time must
			// propose someone twice.
			seen := map[string]int{}
			for _, o := range []Opportunity{morning, city} {
				r, err := f.svc.Roster(ctx, f.staff, o.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range r.Assignments {
					seen[a.VolunteerID]++
				}
			}
			twice := false
			for _, n := range seen {
				twice = twice || n > 1
			}
			if !twice {
				t.Errorf("per-opportunity proposals propose nobody twice: %v", seen)
			}
		})
		t.Run("Deterministic", func(t *testing.T) {
			again, err := f.svc.DayRoster(ctx, f.staff, "2025-06-07", "")
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("second proposal %+v, %v; first %+v", again, err, got)
			}
		})
		t.Run("RepresentativeSeesOwnOrganisation", func(t *testing.T) {
			r, err := f.svc.DayRoster(ctx, f.rep, "2025-06-07", "")
			if err != nil {
				t.Fatal(err)
			}
			if want := sortedIDs([]Opportunity{morning, afternoon}); !slices.Equal(r.OpportunityIDs, want) {
				t.Errorf("representative's day %v, want %v", r.OpportunityIDs, want)
			}
			for _, a := range r.Assignments {
				if a.OpportunityID == city.ID {
					t.Errorf("the city's shift proposed to a representative: %+v", a)
				}
			}
			one, err := f.svc.DayRoster(ctx, f.staff, "2025-06-07", "org-1")
			if err != nil || !slices.Equal(one.OpportunityIDs, r.OpportunityIDs) {
				t.Errorf("staff narrowed to org-1: %+v, %v", one, err)
			}
		})
		t.Run("ErrNotOrganiser", func(t *testing.T) {
			_, err := f.svc.DayRoster(ctx, vol, "2025-06-07", "")
			wantCode(t, err, sdk.CodeForbidden)
			_, err = f.svc.DayRoster(ctx, f.rep, "2025-06-07", "org-2")
			wantCode(t, err, sdk.CodeForbidden)
		})
		t.Run("ErrBadDate", func(t *testing.T) {
			for _, d := range []string{"", "7.6.2025", "2025-02-30"} {
				_, err := f.svc.DayRoster(ctx, f.staff, d, "")
				wantCode(t, err, sdk.CodeInvalid)
			}
		})
	})
}

func sortedIDs(opps []Opportunity) []string {
	var out []string
	for _, o := range opps {
		out = append(out, o.ID)
	}
	slices.Sort(out)
	return out
}

// bruteForceDay returns the best total over every assignment of the ranked candidates
// of each opportunity's single shift that respects capacities, overlaps and weekly
// limits (all shifts lie in one week).
func bruteForceDay(t *testing.T, f *fixture, opps []Opportunity) int {
	t.Helper()
	type cand struct {
		shift Shift
		score int
	}
	byVol := map[string][]cand{}
	capacity := map[string]int{}
	for _, o := range opps {
		sh := o.Shifts[0]
		capacity[sh.ID] = sh.Capacity
		l, err := matchesOf(f.svc, f.staff, o.ID, sh.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range l {
			byVol[c.VolunteerID] = append(byVol[c.VolunteerID], cand{sh, c.Score})
		}
	}
	limit := map[string]time.Duration{}
	var vols []string
	for v := range byVol {
		vols = append(vols, v)
		p, err := f.svc.st.profile(context.Background(), f.svc.st.db, v)
		if err != nil {
			t.Fatal(err)
		}
		limit[v] = time.Duration(p.MaxHoursPerWeek) * time.Hour
	}
	best := 0
	var walk func(i, total int)
	walk = func(i, total int) {
		if i == len(vols) {
			best = max(best, total)
			return
		}
		cs := byVol[vols[i]]
	subsets:
		for mask := 0; mask < 1<<len(cs); mask++ {
			var picked []Shift
			sum, hours := 0, time.Duration(0)
			for j, c := range cs {
				if mask&(1<<j) == 0 {
					continue
				}
				for _, p := range picked {
					if p.Start.Before(c.shift.End) && c.shift.Start.Before(p.End) {
						continue subsets
					}
				}
				if capacity[c.shift.ID] == 0 {
					continue subsets
				}
				picked = append(picked, c.shift)
				sum += c.score
				hours += c.shift.End.Sub(c.shift.Start)
			}
			if limit[vols[i]] > 0 && hours > limit[vols[i]] {
				continue
			}
			for _, p := range picked {
				capacity[p.ID]--
			}
			walk(i+1, total+sum)
			for _, p := range picked {
				capacity[p.ID]++
			}
		}
	}
	walk(0, 0)
	return best
}
