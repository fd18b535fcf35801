package volunteers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n/i18ntest"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/web/webtest"
)

// TestPagesCatalog: every page message is in fi, sv, da, tr and en, with the same
// placeholders and every plural form.
func TestPagesCatalog(t *testing.T) { i18ntest.CheckCatalog(t, locales) }

// pageClient serves the plugin's pages as the host does: the route's permission
// checked against the fixture's FakeHost first, then the plugin's handler with the
// viewer, their language and the page render mode in the request's context.
type pageClient struct {
	t      *testing.T
	f      *fixture
	h      http.Handler
	routes map[string]sdk.Route
	mux    *http.ServeMux
	lang   string
}

func newPageClient(t *testing.T, f *fixture, cfg sdk.StoreConfig) *pageClient {
	t.Helper()
	p := &Plugin{now: f.clock.Now}
	sdktest.NewHarness(t, p, sdktest.HarnessOptions{Host: f.host, Store: cfg, CityTimeZone: "Europe/Helsinki",
		Languages: []string{"fi", "sv", "da", "tr", "en"}})
	c := &pageClient{t: t, f: f, h: p.Handler(), routes: map[string]sdk.Route{}, mux: http.NewServeMux(), lang: "en"}
	for _, r := range p.Routes() {
		pattern := r.Method + " " + r.Path
		c.routes[pattern] = r
		c.mux.Handle(pattern, http.NotFoundHandler())
	}
	return c
}

// answer is a page's answer.
type answer struct {
	status   int
	body     string
	location string
	meta     *sdk.PageMeta
}

func (c *pageClient) do(pr sdk.Principal, method, path string, form url.Values) answer {
	c.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	rec := httptest.NewRecorder()
	if _, pattern := c.mux.Handler(req); pattern != "" {
		route := c.routes[pattern]
		if route.Permission != sdk.PermPublic && !pr.Authenticated() {
			return answer{status: http.StatusUnauthorized}
		}
		if route.Permission != sdk.PermPublic && route.Permission != sdk.PermAuthenticated &&
			!c.f.host.Allowed(pr.UserID, route.Permission, route.Domain) {
			return answer{status: http.StatusForbidden}
		}
	}
	ctx := sdk.WithHost(sdk.WithPrincipal(req.Context(), pr), c.f.host)
	ctx = sdk.WithLanguage(sdk.WithRender(ctx, sdk.RenderPage), c.lang)
	ctx, meta := sdk.RecordPageMeta(ctx)
	c.h.ServeHTTP(rec, req.WithContext(ctx))
	return answer{status: rec.Code, body: rec.Body.String(), location: rec.Header().Get("Location"), meta: meta}
}

// must answers the request and fails the test unless the status is want; every
// page's markup is held to the kit's rules and must show no message ID.
func (c *pageClient) must(want int, pr sdk.Principal, method, path string, form url.Values) answer {
	c.t.Helper()
	a := c.do(pr, method, path, form)
	if a.status != want {
		c.t.Fatalf("%s %s as %q = %d, want %d\n%s", method, path, pr.UserID, a.status, want, a.body)
	}
	if strings.HasPrefix(a.body, "<") || a.status == 200 || a.status == 422 {
		checkPage(c.t, method+" "+path, a.body)
	}
	return a
}

var messageID = regexp.MustCompile(`\bvolunteers\.[a-z_]+\.[a-z_.]+`)

// checkPage fails t when the page's markup breaks the kit's rules or shows a message
// ID instead of its words.
func checkPage(t *testing.T, what, body string) {
	t.Helper()
	for _, p := range webtest.CheckMarkup(webtest.ParseFragment(t, body), webtest.Content) {
		t.Errorf("%s: %s", what, p)
	}
	if id := messageID.FindString(body); id != "" {
		t.Errorf("%s: shows the message ID %s", what, id)
	}
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// TestPages_Story is the story through the pages, on both databases: a visitor
// finds an opportunity without signing in; once registered, they fill in a profile and
// apply; the organiser sees them ranked with reasons and accepts; the volunteer
// confirms and finds the shift in "my volunteering".
func TestPages_Story(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		c := newPageClient(t, f, cfg)
		o := f.published(t, func(in *OpportunityInput) {
			in.Title, in.Place = "Puiston siivous", "Rantapuisto"
			in.Languages, in.PreferredSkills, in.Newcomers = []string{"tr"}, []string{"first_aid"}, true
		})
		anon := sdk.Principal{}

		// A visitor, not signed in, finds it with filters.
		list := c.must(200, anon, "GET", "/volunteers?newcomers=true&neighbourhood=nbh-1", nil)
		if !strings.Contains(list.body, "Puiston siivous") || !strings.Contains(list.body, "3 free places") {
			t.Fatalf("the list lacks the opportunity or its free places:\n%s", list.body)
		}
		if none := c.must(200, anon, "GET", "/volunteers?skill=driving", nil); strings.Contains(none.body, "Puiston siivous") {
			t.Error("a skill filter the opportunity does not ask for still lists it")
		}
		page := c.must(200, anon, "GET", "/volunteers/opportunities/"+o.ID, nil)
		if !strings.Contains(page.body, "/sign-in?back=") || strings.Contains(page.body, "/apply") {
			t.Errorf("a visitor sees no sign-in link, or an apply button:\n%s", page.body)
		}
		if page.meta.Title != "Puiston siivous" {
			t.Errorf("title %q", page.meta.Title)
		}
		if a := c.do(anon, "POST", "/volunteers/opportunities/"+o.ID+"/shifts/"+o.Shifts[0].ID+"/apply", form()); a.status != 401 {
			t.Errorf("a visitor's apply = %d, want 401", a.status)
		}

		// Registered: no profile yet, so applying is refused with the reason.
		f.host.AddUser(sdk.User{ID: "ayse", DisplayName: "Ayşe Yılmaz", Email: "ayse@example.org"})
		ayse := f.host.Principal("ayse")
		apply := "/volunteers/opportunities/" + o.ID + "/shifts/" + o.Shifts[0].ID + "/apply"
		refused := c.must(422, ayse, "POST", apply, form())
		if !strings.Contains(refused.body, "Fill in your volunteer profile first") || refused.meta.Focus != "kv-error-summary" {
			t.Errorf("applying without a profile: focus %q\n%s", refused.meta.Focus, refused.body)
		}

		// The profile: a broken rule keeps the values and focuses the summary.
		c.must(200, ayse, "GET", "/volunteers/profile", nil)
		bad := c.must(422, ayse, "POST", "/volunteers/profile", form("languages", "tr", "skills", "first_aid", "birth_date", "31.2.1990"))
		if !strings.Contains(bad.body, `value="tr" checked`) || bad.meta.Focus != "kv-error-summary" {
			t.Errorf("the refused profile lost its values or focus:\n%s", bad.body)
		}
		ok := c.must(303, ayse, "POST", "/volunteers/profile", form("languages", "tr", "languages", "fi", "skills", "first_aid",
			"birth_date", "17.5.1990", "avail_saturday", "morning", "neighbourhoods", "nbh-1", "max_hours_per_week", "10",
			"away", "24.12.2025"))
		if ok.location != "/volunteers/profile?saved=1" {
			t.Errorf("saved profile goes to %q", ok.location)
		}
		prof, err := f.svc.Profile(context.Background(), ayse)
		if err != nil || prof.BirthDate != "1990-05-17" || len(prof.Availability) != 1 || prof.Availability[0].Start != "06:00" ||
			prof.MaxHoursPerWeek != 10 || len(prof.UnavailableDates) != 1 {
			t.Fatalf("profile saved as %+v, %v", prof, err)
		}
		again := c.must(200, ayse, "GET", "/volunteers/profile?saved=1", nil)
		if !strings.Contains(again.body, `value="morning" checked`) || again.meta.Announce == "" {
			t.Errorf("the saved profile does not show its Saturday morning, or is not announced")
		}

		// Applies.
		if a := c.must(303, ayse, "POST", apply, form()); !strings.HasSuffix(a.location, "?applied=1") {
			t.Errorf("after applying: %q", a.location)
		}
		twice := c.must(422, ayse, "POST", apply, form())
		if !strings.Contains(twice.body, "already been done") {
			t.Errorf("a second application is not explained:\n%s", twice.body)
		}

		// The organiser sees the ranked match with reasons in their own language, and
		// accepts; never the birth date.
		c.lang = "fi"
		matches := c.must(200, f.rep, "GET", "/volunteers/organise/"+o.ID+"/shifts/"+o.Shifts[0].ID+"/matches", nil)
		for _, want := range []string{"puhuu kieltä turkki", "First aid", "vapaana: Lauantai, aamupäivä", "/accept"} {
			if !strings.Contains(matches.body, want) {
				t.Errorf("matches page lacks %q:\n%s", want, matches.body)
			}
		}
		if strings.Contains(matches.body, "Ayşe Yılmaz") {
			t.Errorf("the matches page names an applicant before the organiser accepted her:\n%s", matches.body)
		}
		if strings.Contains(matches.body, "1990") {
			t.Error("the matches page shows the birth date")
		}
		apps, _ := applicationsOf(f.svc, f.rep, o.ID)
		accept := "/volunteers/opportunities/" + o.ID + "/shifts/" + o.Shifts[0].ID + "/applications/" + apps[0].ID + "/accept"
		if a := c.do(ayse, "POST", accept, form()); a.status != 403 {
			t.Errorf("the volunteer accepting their own application = %d, want 403", a.status)
		}
		if a := c.must(303, f.rep, "POST", accept, form()); a.location != "/volunteers/organise/"+o.ID+"?done=accept" {
			t.Errorf("after accepting: %q", a.location)
		}
		manage := c.must(200, f.rep, "GET", "/volunteers/organise/"+o.ID+"?done=accept", nil)
		if !strings.Contains(manage.body, "Ayşe Yılmaz") || strings.Contains(manage.body, "1990") {
			t.Errorf("the organiser page after acceptance:\n%s", manage.body)
		}

		// The volunteer confirms and sees the shift in "my volunteering".
		c.lang = "tr"
		mine := c.must(200, ayse, "GET", "/volunteers/mine", nil)
		if !strings.Contains(mine.body, "Yerimi onayla: Puiston siivous") {
			t.Fatalf("my volunteering offers no confirmation:\n%s", mine.body)
		}
		confirm := strings.Replace(accept, "/accept", "/confirm", 1)
		if a := c.must(303, ayse, "POST", confirm, form()); a.location != "/volunteers/mine?done=confirm" {
			t.Errorf("after confirming: %q", a.location)
		}
		mine = c.must(200, ayse, "GET", "/volunteers/mine?done=confirm", nil)
		if !strings.Contains(mine.body, "Vardiyalarınız") || !strings.Contains(mine.body, "Puiston siivous") ||
			!strings.Contains(mine.body, "/api/v1/volunteers/calendar/") || mine.meta.Announce == "" {
			t.Errorf("my volunteering after confirming:\n%s", mine.body)
		}
		got, err := f.svc.st.application(context.Background(), f.svc.st.db, apps[0].ID)
		if err != nil || got.Status != StatusConfirmed {
			t.Errorf("application %+v, %v", got, err)
		}
	})
}

// TestPages_Guards attacks the pages' guarantees on both databases: organisers' and
// staff's pages are closed to residents by the host; the service refuses an
// organiser another organisation's opportunity and a volunteer another's sign-up; a
// draft is nobody's business but its organisers'; bad input is a 422, never a 500.
func TestPages_Guards(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		c := newPageClient(t, f, cfg)
		ctx := context.Background()
		city, err := f.svc.CreateOpportunity(ctx, f.staff, OpportunityInput{Title: "City draft", Shifts: []ShiftInput{f.saturday(9, 12, 2)}})
		if err != nil {
			t.Fatal(err)
		}
		o := f.published(t, nil)
		vol := f.volunteer(t, "vol", nil)
		other := f.volunteer(t, "other", nil)
		shift := "/volunteers/opportunities/" + o.ID + "/shifts/" + o.Shifts[0].ID

		for _, path := range []string{"/volunteers/organise", "/volunteers/organise/new", "/volunteers/skills", "/volunteers/checks",
			"/volunteers/organise/" + o.ID, "/volunteers/organise/" + o.ID + "/shifts/" + o.Shifts[0].ID + "/matches"} {
			if a := c.do(vol, "GET", path, nil); a.status != 403 {
				t.Errorf("a resident opens %s: %d", path, a.status)
			}
		}
		if a := c.do(f.rep, "GET", "/volunteers/skills", nil); a.status != 403 {
			t.Errorf("a representative opens the skill catalogue: %d", a.status)
		}
		// The representative organises org-1's work, not the city's.
		for _, path := range []string{"/volunteers/organise/" + city.ID, "/volunteers/organise/" + city.ID + "/shifts/" + city.Shifts[0].ID + "/matches"} {
			if a := c.do(f.rep, "GET", path, nil); a.status != 403 {
				t.Errorf("the representative opens %s: %d", path, a.status)
			}
		}
		if a := c.do(f.rep, "POST", "/volunteers/organise/"+city.ID+"/publish", form()); a.status != 403 {
			t.Errorf("the representative publishes the city's draft: %d", a.status)
		}
		if got, _ := f.svc.st.opportunity(ctx, f.svc.st.db, city.ID); got.State != StateDraft {
			t.Errorf("the city's draft is %s", got.State)
		}
		// A draft is not found by anyone but its organisers.
		for _, who := range []sdk.Principal{{}, vol, f.rep} {
			if a := c.do(who, "GET", "/volunteers/opportunities/"+city.ID, nil); a.status != 404 {
				t.Errorf("%q opens the city's draft: %d", who.UserID, a.status)
			}
		}
		c.must(200, f.staff, "GET", "/volunteers/opportunities/"+city.ID, nil)

		// One volunteer cannot withdraw or confirm another's sign-up.
		c.must(303, vol, "POST", shift+"/apply", form())
		apps, _ := applicationsOf(f.svc, f.rep, o.ID)
		if a := c.do(other, "POST", shift+"/applications/"+apps[0].ID+"/withdraw", form()); a.status != 403 {
			t.Errorf("another volunteer withdraws the sign-up: %d", a.status)
		}
		if got, _ := f.svc.st.application(ctx, f.svc.st.db, apps[0].ID); got.Status != StatusApplied {
			t.Errorf("the sign-up is %s", got.Status)
		}

		// Bad input: 422 with the form, nothing stored.
		bad := c.must(422, sdk.Principal{}, "GET", "/volunteers?from=31.2.2026&age=999", nil)
		if !strings.Contains(bad.body, "kv-error-summary") {
			t.Error("a bad filter shows no error summary")
		}
		before, _ := f.svc.Profile(ctx, vol)
		c.must(422, vol, "POST", "/volunteers/profile", form("birth_date", "1990-01-01", "tags", "a\x00b"))
		c.must(422, vol, "POST", "/volunteers/profile", form("birth_date", "1990-01-01", "max_hours_per_week", "99999999999"))
		c.must(422, vol, "POST", "/volunteers/profile", form("birth_date", "1990-01-01", "skills", "no_such_skill"))
		if after, _ := f.svc.Profile(ctx, vol); !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Error("a refused profile changed the stored one")
		}
		c.must(422, f.rep, "POST", "/volunteers/organise/new", form("organisation_id", "org-1", "title", "x",
			"shift1_date", "2025-06-07", "shift1_start", "10:00", "shift1_end", "12:00", "shift1_capacity", "2147483648"))
		c.must(422, f.rep, "POST", "/volunteers/organise/new", form("organisation_id", "org-1", "title", "Past",
			"shift1_date", "2020-06-07", "shift1_start", "10:00", "shift1_end", "12:00", "shift1_capacity", "2"))
	})
}

// TestPages_Shifts: an organiser adds a shift and moves another through the forms; a
// shift in the past is refused with the form again.
func TestPages_Shifts(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		c := newPageClient(t, f, cfg)
		o := f.published(t, nil)
		base := "/volunteers/organise/" + o.ID
		c.lang = "sv"
		c.must(200, f.rep, "GET", base+"/shifts/new", nil)
		if a := c.must(303, f.rep, "POST", base+"/shifts/new", form("date", "2025-06-08", "start", "10:00", "end", "13:00", "capacity", "4")); a.location != base+"?done=shift_added" {
			t.Errorf("adding goes to %q", a.location)
		}
		bad := c.must(422, f.rep, "POST", base+"/shifts/new", form("date", "2025-05-08", "start", "10:00", "end", "13:00", "capacity", "4"))
		if !strings.Contains(bad.body, "Passet måste börja i framtiden") {
			t.Errorf("a past shift is not explained:\n%s", bad.body)
		}
		edit := base + "/shifts/" + o.Shifts[0].ID + "/edit"
		if page := c.must(200, f.rep, "GET", edit, nil); !strings.Contains(page.body, `value="2025-06-07"`) || !strings.Contains(page.body, `value="09:00"`) {
			t.Errorf("the edit form is not filled with the shift:\n%s", page.body)
		}
		c.must(303, f.rep, "POST", edit, form("date", "2025-06-07", "start", "11:00", "end", "14:00", "capacity", "6"))
		got, err := f.svc.st.opportunity(context.Background(), f.svc.st.db, o.ID)
		if err != nil || len(got.Shifts) != 2 {
			t.Fatalf("opportunity %+v, %v", got, err)
		}
		sh, _ := findShift(got, o.Shifts[0].ID)
		if sh.Capacity != 6 || sh.Start.In(f.loc).Hour() != 11 {
			t.Errorf("the shift is now %+v", sh)
		}
		vol := f.volunteer(t, "vol", nil)
		if a := c.do(vol, "POST", edit, form("date", "2025-06-07", "start", "11:00", "end", "14:00", "capacity", "6")); a.status != 403 {
			t.Errorf("a resident changes the shift: %d", a.status)
		}
	})
}

// TestPages_FewerPlacesThanHeld: cutting a shift's places below those held is refused
// in the organiser's words, and the places stay.
func TestPages_FewerPlacesThanHeld(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		c := newPageClient(t, f, cfg)
		o := f.published(t, func(in *OpportunityInput) { in.AutoAccept = true })
		for _, id := range []string{"a", "b"} {
			if _, err := f.svc.Apply(context.Background(), f.volunteer(t, id, nil), o.ID, o.Shifts[0].ID); err != nil {
				t.Fatal(err)
			}
		}
		edit := "/volunteers/organise/" + o.ID + "/shifts/" + o.Shifts[0].ID + "/edit"
		a := c.must(422, f.rep, "POST", edit, form("date", "2025-06-07", "start", "09:00", "end", "12:00", "capacity", "1"))
		if !strings.Contains(a.body, "fewer places than volunteers already holding one") {
			t.Errorf("the refusal is not explained:\n%s", a.body)
		}
		got, _ := f.svc.st.opportunity(context.Background(), f.svc.st.db, o.ID)
		if got.Shifts[0].Capacity != 3 {
			t.Errorf("capacity %d", got.Shifts[0].Capacity)
		}
	})
}

// TestPages_Languages opens every page in each of the five languages, as the role it
// is for: each answers 200 with markup that keeps the kit's rules and no message ID
// left unworded (pageClient.must), titled in that language.
func TestPages_Languages(t *testing.T) {
	cfg := sdktest.SQLiteStore(t)
	f := newFixture(t, cfg)
	c := newPageClient(t, f, cfg)
	ctx := context.Background()
	o := f.published(t, func(in *OpportunityInput) {
		in.Languages = []string{"fi", "tr"}
		in.PreferredSkills = []string{"first_aid"}
	})
	vol := f.volunteer(t, "vol", func(in *ProfileInput) { in.Languages = []string{"fi", "tr"} })
	if _, err := f.svc.Apply(ctx, vol, o.ID, o.Shifts[0].ID); err != nil {
		t.Fatal(err)
	}
	sh := o.Shifts[0].ID
	pages := []struct {
		who  sdk.Principal
		path string
	}{
		{sdk.Principal{}, "/volunteers"},
		{sdk.Principal{}, "/volunteers?neighbourhood=nbh-1&newcomers=true"},
		{sdk.Principal{}, "/volunteers/opportunities/" + o.ID},
		{sdk.Principal{}, "/volunteers/cards/neighbourhood/nbh-1"},
		{vol, "/volunteers/opportunities/" + o.ID},
		{vol, "/volunteers/profile"},
		{vol, "/volunteers/mine"},
		{f.rep, "/volunteers/organise"},
		{f.rep, "/volunteers/organise/new"},
		{f.rep, "/volunteers/organise/" + o.ID},
		{f.rep, "/volunteers/organise/" + o.ID + "/shifts/" + sh + "/matches"},
		{f.rep, "/volunteers/organise/" + o.ID + "/shifts/" + sh + "/edit"},
		{f.rep, "/volunteers/organise/" + o.ID + "/shifts/new"},
		{f.rep, "/volunteers/organise/" + o.ID + "/roster"},
		{f.rep, "/volunteers/organise/" + o.ID + "/edit"},
		{f.staff, "/volunteers/skills"},
		{f.staff, "/volunteers/checks"},
	}
	titles := map[string]string{}
	for _, lang := range []string{"fi", "sv", "da", "tr", "en"} {
		c.lang = lang
		for _, pg := range pages {
			a := c.must(200, pg.who, "GET", pg.path, nil)
			if pg.path == "/volunteers/mine" {
				if prev, seen := titles[a.meta.Title]; seen {
					t.Errorf("%s and %s title my volunteering alike: %q", prev, lang, a.meta.Title)
				}
				titles[a.meta.Title] = lang
			}
		}
	}
}

// TestPages_Staff: city staff name a skill in the city's languages (one implying a
// background check), find a volunteer in the checks list and record their check; an
// unknown volunteer is refused with the form.
func TestPages_Staff(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		c := newPageClient(t, f, cfg)
		ctx := context.Background()
		c.must(303, f.staff, "POST", "/volunteers/skills", form("id", "children", "name_fi", "Lastenhoito", "name_en", "Childcare", "needs_check", "yes"))
		skills, _ := f.svc.st.skills(ctx)
		var found bool
		for _, sk := range skills {
			if sk.ID == "children" {
				found = sk.NeedsBackgroundCheck && sk.Names["fi"] == "Lastenhoito"
			}
		}
		if !found {
			t.Errorf("the skill was not saved as given: %+v", skills)
		}
		c.must(422, f.staff, "POST", "/volunteers/skills", form("id", "Bad ID!", "name_fi", "x"))
		vol := f.volunteer(t, "vol", nil)
		list := c.must(200, f.staff, "GET", "/volunteers/checks?show=none", nil)
		if !strings.Contains(list.body, "/volunteers/checks?user_id=vol") {
			t.Errorf("the checks list does not offer the volunteer:\n%s", list.body)
		}
		if a := c.must(200, f.staff, "GET", "/volunteers/checks?user_id=vol", nil); !strings.Contains(a.body, `value="vol"`) {
			t.Error("the form is not filled with the volunteer chosen")
		}
		c.must(303, f.staff, "POST", "/volunteers/checks", form("user_id", "vol", "status", "cleared", "expires", "31.12.2027"))
		if p, _ := f.svc.Profile(ctx, vol); p.BackgroundCheck.Status != CheckCleared || p.BackgroundCheck.Expires != "2027-12-31" {
			t.Errorf("check stored as %+v", p.BackgroundCheck)
		}
		c.must(422, f.staff, "POST", "/volunteers/checks", form("user_id", "nobody", "status", "cleared"))
	})
}

// TestPages_EditOpportunity: the organiser changes an opportunity's details through
// the form, filled with what it holds; unticking a box clears it, an empty title is
// refused with the form.
func TestPages_EditOpportunity(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		c := newPageClient(t, f, cfg)
		o := f.published(t, func(in *OpportunityInput) { in.Newcomers, in.Place, in.MinAge = true, "Kirkko", 16 })
		edit := "/volunteers/organise/" + o.ID + "/edit"
		page := c.must(200, f.rep, "GET", edit, nil)
		for _, want := range []string{`value="Kirkko"`, `value="16"`, `value="newcomers" checked`} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the edit form lacks %s", want)
			}
		}
		c.must(422, f.rep, "POST", edit, form("title", " ", "place", "Kirkko"))
		c.must(303, f.rep, "POST", edit, form("title", "Kirkon siivous", "neighbourhood_id", "nbh-1", "place", "Kirkkopuisto",
			"required_skills", "cooking", "options", "auto_accept"))
		got, err := f.svc.st.opportunity(context.Background(), f.svc.st.db, o.ID)
		if err != nil || got.Title != "Kirkon siivous" || got.Place != "Kirkkopuisto" || got.Newcomers || !got.AutoAccept ||
			got.MinAge != 0 || len(got.RequiredSkills) != 1 || got.State != StatePublished {
			t.Errorf("opportunity now %+v, %v", got, err)
		}
		if a := c.do(f.host.Principal("rep2"), "POST", edit, form("title", "Taken over")); a.status != 403 {
			t.Errorf("another organisation's representative edits: %d", a.status)
		}
	})
}

// TestPages_Roster: the organiser reviews the roster proposal and applies it, which
// invites the proposed volunteer; the invitation waits in their "my volunteering".
func TestPages_Roster(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		c := newPageClient(t, f, cfg)
		o := f.published(t, nil)
		vol := f.volunteer(t, "vol", nil)
		path := "/volunteers/organise/" + o.ID + "/roster"
		if page := c.must(200, f.rep, "GET", path, nil); !strings.Contains(page.body, `action="`+path+`"`) {
			t.Fatalf("the roster page offers nothing to apply:\n%s", page.body)
		}
		if a := c.must(303, f.rep, "POST", path, form()); a.location != path+"?invited=1" {
			t.Errorf("applying goes to %q", a.location)
		}
		c.must(200, f.rep, "GET", path+"?invited=1", nil)
		if mine := c.must(200, vol, "GET", "/volunteers/mine", nil); !strings.Contains(mine.body, `id="invitations"`) {
			t.Errorf("the invitation is not in my volunteering:\n%s", mine.body)
		}
	})
}

// TestPages_NewOpportunity: an organiser posts a draft with two shifts through the
// form (the second ending after midnight), then publishes it.
func TestPages_NewOpportunity(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		c := newPageClient(t, f, cfg)
		a := c.must(303, f.rep, "POST", "/volunteers/organise/new", form("organisation_id", "org-1", "title", "Ruoka-apu",
			"neighbourhood_id", "nbh-1", "required_skills", "cooking", "languages", "fi", "min_age", "15", "options", "newcomers",
			"shift1_date", "7.6.2025", "shift1_start", "10.00", "shift1_end", "13:00", "shift1_capacity", "4",
			"shift2_date", "2025-06-08", "shift2_start", "20:00", "shift2_end", "01:00", "shift2_capacity", "2"))
		id := strings.TrimSuffix(strings.TrimPrefix(a.location, "/volunteers/organise/"), "?done=created")
		o, err := f.svc.st.opportunity(context.Background(), f.svc.st.db, id)
		if err != nil || o.Title != "Ruoka-apu" || o.State != StateDraft || !o.Newcomers || o.MinAge != 15 || len(o.Shifts) != 2 ||
			o.OrganisationID != "org-1" || len(o.RequiredSkills) != 1 {
			t.Fatalf("stored %+v, %v", o, err)
		}
		if late := o.Shifts[1]; late.End.Sub(late.Start) != 5*time.Hour || late.Start.In(f.loc).Hour() != 20 {
			t.Errorf("the shift after midnight is %s–%s", late.Start, late.End)
		}
		c.must(303, f.rep, "POST", "/volunteers/organise/"+id+"/publish", form())
		if page := c.must(200, sdk.Principal{}, "GET", "/volunteers/opportunities/"+id, nil); !strings.Contains(page.body, "Ruoka-apu") {
			t.Error("the published opportunity is not public")
		}
	})
}
