package volunteers

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestHost_Story runs the plugin inside a real `kvarter serve` (sdk/sdktest): real
// routing, casbin permission checks, Principals with organisation representatives, the
// host API (users, neighbourhoods, organisations, Can) and the plugin's own store. On
// SQLite always, on PostgreSQL when KVARTER_TEST_DATABASE_URL is set (CI sets it).
//
// The plugin runs on the real clock, so the story's shift starts a few seconds after it
// is created: the volunteer applies, is accepted and confirms before it starts, and the
// organiser records attendance once it has. The other checks run meanwhile.
func TestHost_Story(t *testing.T) {
	sdktest.EachCore(t, sdktest.Options{Package: "./cmd/kvarter-volunteers", Name: "volunteers"}, func(t *testing.T, core *sdktest.Core, _ bool) {
		h := newHostCity(t, core)
		story := h.storyBegin(t)
		t.Run("ConcurrentSignups", h.concurrentSignups)
		t.Run("MinorNeverProposed", h.minorNeverProposed)
		t.Run("ExpiredCheckExcludes", h.expiredCheckExcludes)
		story(t)
	})
}

// TestHost_EventsSurviveKill kills the city between the plugin's commits and the
// delivery of their events (sdktest.KillDuringDelivery), restarts it, and finds every
// event — opportunities published, places confirmed — delivered to a subscriber
// exactly once, on SQLite and PostgreSQL: the events are written in the transaction of
// the change, into the plugin's store, and leave it only once the host took them.
func TestHost_EventsSurviveKill(t *testing.T) {
	var h *hostCity
	var vols []*sdktest.Client
	sdktest.KillDuringDelivery(t, sdktest.DeliveryCrash{
		Options: sdktest.Options{Package: "./cmd/kvarter-volunteers", Name: "volunteers"},
		Types:   []string{EventOpportunityPublished, EventAssignmentConfirmed},
		Setup: func(t testing.TB, c *sdktest.Core) {
			h, vols = newHostCity(t, c), nil
			for i := range 20 {
				vols = append(vols, h.volunteer(t, fmt.Sprintf("v%02d@example.org", i), "1990-01-01"))
			}
		},
		Produce: func(t testing.TB, c *sdktest.Core, round int) int {
			// One auto-accept opportunity a round, on a day of its own, and every
			// volunteer signing up at once: 1 published and 20 confirmed events, the
			// last of them committed as the city dies.
			start := h.localDay(3 + round)
			o := h.opportunity(t, fmt.Sprintf("Round %d", round), map[string]any{"auto_accept": true}, len(vols),
				[2]time.Time{start, start.Add(3 * time.Hour)})
			var wg sync.WaitGroup
			for _, v := range vols {
				wg.Go(func() {
					if r := v.Do("POST", base+"/opportunities/"+o.ID+"/shifts/"+o.Shifts[0].ID+"/applications", nil); r.Status != 201 {
						t.Errorf("apply: %d %s", r.Status, r.Body)
					}
				})
			}
			wg.Wait()
			return 1 + len(vols)
		},
	})
}

// hostCity is a city in a running core: a neighbourhood, the catalogue, a verified
// organisation and its representative.
type hostCity struct {
	core *sdktest.Core
	loc  *time.Location
	nbh  string
	org  string
	rep  *sdktest.Client
}

func newHostCity(t testing.TB, core *sdktest.Core) *hostCity {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Helsinki") // sdktest's city time zone
	if err != nil {
		t.Fatal(err)
	}
	h := &hostCity{core: core, loc: loc, nbh: core.Neighbourhood("Keskusta")}
	for id, name := range map[string]string{"first_aid": "First aid", "driving": "Driving"} {
		core.Admin().Must(200, "PUT", base+"/skills/"+id, map[string]any{"names": map[string]string{"en": name}})
	}
	h.rep = core.NewUser("rep@example.org")
	h.org = core.Organisation(h.rep, "Parish", h.nbh)
	return h
}

// volunteer registers a person with a profile free all week; birth is YYYY-MM-DD.
func (h *hostCity) volunteer(t testing.TB, email, birth string) *sdktest.Client {
	t.Helper()
	u := h.core.NewUser(email)
	var avail []map[string]string
	for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"} {
		avail = append(avail, map[string]string{"day": d, "start": "00:00", "end": "24:00"})
	}
	u.Must(200, "PUT", base+"/profile", map[string]any{"skills": []string{"first_aid"}, "languages": []string{"fi"},
		"availability": avail, "neighbourhoods": []string{h.nbh}, "birth_date": birth})
	return u
}

// opportunity creates and publishes one of the organisation's opportunities; shifts
// are [start, end] pairs.
func (h *hostCity) opportunity(t testing.TB, title string, extra map[string]any, capacity int, shifts ...[2]time.Time) Opportunity {
	t.Helper()
	in := map[string]any{"organisation_id": h.org, "title": title, "neighbourhood_id": h.nbh, "required_skills": []string{"first_aid"}}
	for k, v := range extra {
		in[k] = v
	}
	var sh []map[string]any
	for _, s := range shifts {
		sh = append(sh, map[string]any{"start": s[0].Format(time.RFC3339), "end": s[1].Format(time.RFC3339), "capacity": capacity})
	}
	in["shifts"] = sh
	var o Opportunity
	h.rep.Must(201, "POST", base+"/opportunities", in).Decode(t, &o)
	h.rep.Must(200, "POST", base+"/opportunities/"+o.ID+"/publish", nil)
	return o
}

// localDay is 10:00 local time, days from today.
func (h *hostCity) localDay(days int) time.Time {
	y, m, d := time.Now().In(h.loc).Date()
	return time.Date(y, m, d+days, 10, 0, 0, 0, h.loc)
}

func (h *hostCity) matches(t *testing.T, o Opportunity, shift int) []string {
	t.Helper()
	var out struct {
		Items []MatchCandidate `json:"items"` // an sdk.Page
	}
	h.rep.Must(200, "GET", base+"/opportunities/"+o.ID+"/shifts/"+o.Shifts[shift].ID+"/matches?limit=200", nil).Decode(t, &out)
	ids := make([]string, len(out.Items))
	for i, c := range out.Items {
		ids[i] = c.VolunteerID
	}
	return ids
}

func (h *hostCity) applications(t *testing.T, o Opportunity) []ApplicationView {
	t.Helper()
	var out struct {
		Items []ApplicationView `json:"items"`
	}
	h.rep.Must(200, "GET", base+"/opportunities/"+o.ID+"/applications", nil).Decode(t, &out)
	return out.Items
}

// storyLead is how long after its creation the story's shift starts: enough for apply,
// accept and confirm on a slow machine.
const storyLead = 6 * time.Second

// storyBegin runs the story up to the shift's start and returns its second half:
// a resident with a profile applies, the organiser sees the profile but no contact,
// accepts, sees the contact, the volunteer confirms; then (once the shift has started)
// attendance is recorded and the hours summary shows it, in JSON and CSV.
func (h *hostCity) storyBegin(t *testing.T) func(*testing.T) {
	t.Helper()
	anna := h.volunteer(t, "anna@example.org", "1990-04-01")
	stranger := h.core.NewUser("stranger@example.org")
	start := time.Now().Add(storyLead).Truncate(time.Second)
	o := h.opportunity(t, "Church fair", nil, 3, [2]time.Time{start, start.Add(2 * time.Hour)})
	sh := base + "/opportunities/" + o.ID + "/shifts/" + o.Shifts[0].ID

	stranger.Must(409, "POST", sh+"/applications", nil) // no profile yet
	var a Application
	anna.Must(201, "POST", sh+"/applications", nil).Decode(t, &a)
	anna.Must(409, "POST", sh+"/applications", nil) // twice
	if a.Status != StatusApplied {
		t.Fatalf("applied: %+v", a)
	}
	if v := h.applications(t, o); len(v) != 1 || v[0].Profile == nil || v[0].Contact != nil {
		t.Fatalf("before acceptance the organiser sees the profile but no contact: %+v", v)
	}
	anna.Must(403, "GET", base+"/opportunities/"+o.ID+"/applications", nil)
	anna.Must(403, "POST", sh+"/applications/"+a.ID+"/accept", nil)
	stranger.Must(403, "POST", sh+"/applications/"+a.ID+"/confirm", nil) // not theirs
	h.rep.Must(200, "POST", sh+"/applications/"+a.ID+"/accept", nil).Decode(t, &a)
	if a.Status != StatusAccepted {
		t.Fatalf("accepted: %+v", a)
	}
	if v := h.applications(t, o); len(v) != 1 || v[0].Contact == nil || v[0].Contact.Email != "anna@example.org" {
		t.Fatalf("after acceptance the organiser sees the contact: %+v", v)
	}
	anna.Must(200, "POST", sh+"/applications/"+a.ID+"/confirm", nil).Decode(t, &a)
	if a.Status != StatusConfirmed {
		t.Fatalf("confirmed: %+v", a)
	}
	h.rep.Must(409, "POST", sh+"/applications/"+a.ID+"/attendance", map[string]any{"attended": true}) // not started
	if time.Now().After(start) {
		t.Fatalf("the story's first half took longer than %v", storyLead)
	}

	return func(t *testing.T) {
		time.Sleep(time.Until(start.Add(time.Second)))
		h.rep.Must(200, "POST", sh+"/applications/"+a.ID+"/attendance", map[string]any{"attended": true}).Decode(t, &a)
		if a.Status != StatusAttended || a.Minutes != 120 {
			t.Fatalf("attendance: %+v", a)
		}
		var hs Hours
		anna.Must(200, "GET", base+"/hours", nil).Decode(t, &hs)
		if hs.Attended != 1 || hs.TotalMinutes != 120 || hs.TotalHours != 2 || len(hs.Entries) != 1 ||
			hs.Entries[0].Title != "Church fair" || hs.Entries[0].Status != StatusAttended {
			t.Fatalf("hours: %+v", hs)
		}
		csv := anna.Must(200, "GET", base+"/hours?format=csv", nil)
		if ct := csv.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("csv content type %q", ct)
		}
		lines := strings.Split(strings.TrimSpace(string(csv.Body)), "\n")
		if len(lines) != 3 || !strings.Contains(lines[1], "Church fair") || !strings.HasSuffix(lines[1], ",attended,2.00") ||
			lines[2] != ",total,,,,2.00" {
			t.Errorf("csv:\n%s", csv.Body)
		}
		var other Hours
		stranger.Must(200, "GET", base+"/hours", nil).Decode(t, &other)
		if len(other.Entries) != 0 {
			t.Errorf("someone else's hours: %+v", other)
		}
	}
}

// concurrentSignups sends 100 sign-ups by 100 people at once, through the core, to an
// auto-accepting shift of capacity 10: exactly 10 are confirmed and 90 wait-listed.
func (h *hostCity) concurrentSignups(t *testing.T) {
	const n, capacity = 100, 10
	people := make([]*sdktest.Client, n)
	for i := range people {
		people[i] = h.volunteer(t, fmt.Sprintf("crowd%03d@example.org", i), "1985-01-01")
	}
	day := h.localDay(3)
	o := h.opportunity(t, "Festival", map[string]any{"auto_accept": true}, capacity, [2]time.Time{day, day.Add(3 * time.Hour)})
	sh := base + "/opportunities/" + o.ID + "/shifts/" + o.Shifts[0].ID
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[string]int{}
	for _, p := range people {
		wg.Go(func() {
			r := p.Do("POST", sh+"/applications", nil)
			mu.Lock()
			defer mu.Unlock()
			if r.Status != 201 {
				got[fmt.Sprint(r.Status)]++
				return
			}
			got[r.JSON()["status"].(string)]++
		})
	}
	wg.Wait()
	if got[StatusConfirmed] != capacity || got[StatusWaitlisted] != n-capacity || len(got) != 2 {
		t.Fatalf("100 concurrent sign-ups for %d places: %v", capacity, got)
	}
	var after Opportunity
	h.rep.Must(200, "GET", base+"/opportunities/"+o.ID, nil).Decode(t, &after)
	if s := after.Shifts[0]; s.Taken != capacity || s.Waitlisted != n-capacity {
		t.Fatalf("shift after the rush: %+v", s)
	}
	confirmed := 0
	for _, v := range h.applications(t, o) {
		if v.Status == StatusConfirmed {
			confirmed++
		}
	}
	if confirmed != capacity {
		t.Fatalf("%d confirmed applications, capacity %d", confirmed, capacity)
	}
}

// minorNeverProposed: a 16-year-old is not among the matches (nor in the roster
// proposals, the opportunity's and the day's) for an 18+ shift, and cannot sign up for
// it; an adult is.
func (h *hostCity) minorNeverProposed(t *testing.T) {
	today := time.Now().In(h.loc)
	minor := h.volunteer(t, "minor@example.org", today.AddDate(-16, 0, 0).Format(time.DateOnly))
	adult := h.volunteer(t, "adult@example.org", today.AddDate(-30, 0, 0).Format(time.DateOnly))
	day := h.localDay(5)
	o := h.opportunity(t, "Night patrol", map[string]any{"min_age": 18}, 5, [2]time.Time{day, day.Add(2 * time.Hour)})
	ids := h.matches(t, o, 0)
	if slices.Contains(ids, minor.UserID) || !slices.Contains(ids, adult.UserID) {
		t.Fatalf("matches for an 18+ shift: %v (minor %s, adult %s)", ids, minor.UserID, adult.UserID)
	}
	var ro Roster
	h.rep.Must(200, "GET", base+"/opportunities/"+o.ID+"/roster", nil).Decode(t, &ro)
	for _, a := range ro.Assignments {
		if a.VolunteerID == minor.UserID {
			t.Fatalf("roster proposes the minor: %+v", ro)
		}
	}
	minor.Must(409, "POST", base+"/opportunities/"+o.ID+"/shifts/"+o.Shifts[0].ID+"/applications", nil)
	open := h.opportunity(t, "Library reading", nil, 5, [2]time.Time{day, day.Add(time.Hour)})
	if ids := h.matches(t, open, 0); !slices.Contains(ids, minor.UserID) {
		t.Fatalf("matches for a shift without an age limit leave out the minor: %v", ids)
	}
	// The two shifts overlap: the day's roster fills both and proposes nobody twice.
	var dr DayRoster
	h.rep.Must(200, "GET", base+"/roster?date="+day.Format(time.DateOnly), nil).Decode(t, &dr)
	twice := map[string]int{}
	for _, a := range dr.Assignments {
		if twice[a.VolunteerID]++; twice[a.VolunteerID] > 1 || a.VolunteerID == minor.UserID && a.OpportunityID == o.ID {
			t.Fatalf("day roster proposes %s wrongly: %+v", a.VolunteerID, dr)
		}
	}
	if len(dr.Assignments) != 10 || !dr.Optimal || !slices.Equal(dr.OpportunityIDs, sortedIDs([]Opportunity{o, open})) {
		t.Fatalf("day roster: %+v", dr)
	}
}

// expiredCheckExcludes: a background check cleared until a date makes the volunteer
// eligible for a check-requiring shift before it and not for one after it.
func (h *hostCity) expiredCheckExcludes(t *testing.T) {
	checked := h.volunteer(t, "checked@example.org", "1980-02-02")
	unchecked := h.volunteer(t, "unchecked@example.org", "1980-02-02")
	expires := h.localDay(20).Format(time.DateOnly)
	checked.Must(403, "PUT", base+"/profiles/"+checked.UserID+"/background-check", map[string]any{"status": "cleared"})
	h.core.Admin().Must(200, "PUT", base+"/profiles/"+checked.UserID+"/background-check",
		map[string]any{"status": "cleared", "expires": expires})
	before, after := h.localDay(10), h.localDay(30)
	o := h.opportunity(t, "Youth camp", map[string]any{"needs_background_check": true}, 5,
		[2]time.Time{before, before.Add(4 * time.Hour)}, [2]time.Time{after, after.Add(4 * time.Hour)})
	if ids := h.matches(t, o, 0); !slices.Contains(ids, checked.UserID) || slices.Contains(ids, unchecked.UserID) {
		t.Fatalf("matches before the check expires on %s: %v (checked %s, unchecked %s)", expires, ids, checked.UserID, unchecked.UserID)
	}
	if ids := h.matches(t, o, 1); slices.Contains(ids, checked.UserID) || slices.Contains(ids, unchecked.UserID) {
		t.Fatalf("matches after the check expires on %s: %v (checked %s)", expires, ids, checked.UserID)
	}
	shifts := base + "/opportunities/" + o.ID + "/shifts/"
	checked.Must(409, "POST", shifts+o.Shifts[1].ID+"/applications", nil)
	checked.Must(201, "POST", shifts+o.Shifts[0].ID+"/applications", nil)
}
