package parks

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/web"
	"github.com/kvarter/kvarter/sdk/web/webtest"
)

// pageResult is a page's answer as the host receives it.
type pageResult struct {
	Status   int
	Body     string
	Meta     sdk.PageMeta
	Location string
}

// pages serves the plugin's pages as the host does: the route's permission
// checked in its domain first (403 or 401 before the plugin sees anything),
// then the page in the viewer's language with its metadata recorded.
type pages struct {
	t     *testing.T
	w     *world
	mux   http.Handler
	match *http.ServeMux
	perms map[string]sdk.Route
	lang  string
}

func newPages(t *testing.T, w *world) *pages {
	t.Helper()
	routes := w.plugin.Routes()
	pg := &pages{t: t, w: w, mux: sdk.Mux(routes), match: http.NewServeMux(), perms: map[string]sdk.Route{}, lang: "en"}
	for _, r := range routes {
		pg.perms[r.Method+" "+r.Path] = r
		pg.match.HandleFunc(r.Method+" "+r.Path, func(http.ResponseWriter, *http.Request) {})
	}
	// Every message a page asks for exists in the viewer's language.
	pageBundle().OnMissing(func(lang, id string, err error) { t.Errorf("%s: message %s is missing: %v", lang, id, err) })
	t.Cleanup(func() { pageBundle().OnMissing(nil) })
	return pg
}

func (pg *pages) in(lang string) *pages { c := *pg; c.lang = lang; return &c }

func (pg *pages) do(pr sdk.Principal, method, target string, form url.Values) pageResult {
	pg.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	rec := httptest.NewRecorder()
	_, pattern := pg.match.Handler(req)
	if route, ok := pg.perms[pattern]; ok && route.Permission != sdk.PermPublic {
		if !pr.Authenticated() {
			return pageResult{Status: 401}
		}
		if route.Permission != sdk.PermAuthenticated && !pg.w.host.Allowed(pr.UserID, route.Permission, route.Domain) {
			return pageResult{Status: 403}
		}
	}
	ctx := sdk.WithHost(sdk.WithPrincipal(req.Context(), pr), pg.w.host)
	ctx = sdk.WithLanguage(sdk.WithRender(ctx, sdk.RenderPage), pg.lang)
	ctx, meta := sdk.RecordPageMeta(ctx)
	pg.mux.ServeHTTP(rec, req.WithContext(ctx))
	res := pageResult{Status: rec.Code, Body: rec.Body.String(), Meta: *meta, Location: rec.Header().Get("Location")}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		for _, problem := range webtest.CheckMarkup(webtest.ParseFragment(pg.t, res.Body), webtest.Content) {
			pg.t.Errorf("%s %s (%s): %s", method, target, pg.lang, problem)
		}
	}
	return res
}

func (pg *pages) get(pr sdk.Principal, target string, want int) pageResult {
	pg.t.Helper()
	r := pg.do(pr, "GET", target, nil)
	if r.Status != want {
		pg.t.Fatalf("GET %s (%s) = %d, want %d\n%s", target, pg.lang, r.Status, want, r.Body)
	}
	return r
}

func (pg *pages) post(pr sdk.Principal, target string, form url.Values, want int) pageResult {
	pg.t.Helper()
	r := pg.do(pr, "POST", target, form)
	if r.Status != want {
		pg.t.Fatalf("POST %s (%s) = %d, want %d\n%s", target, pg.lang, r.Status, want, r.Body)
	}
	return r
}

func wantIn(t *testing.T, what, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Errorf("%s lacks %q:\n%s", what, p, body)
		}
	}
}

// requestForm is a filled request form for area on a June day, h1 to h2.
func requestForm(area *Area, org string, day, h1, h2 int, title string) url.Values {
	return url.Values{"area_id": {area.ID}, "organisation_id": {org}, "date": {"2025-06-" + twoDigits(day)},
		"start": {twoDigits(h1) + ":00"}, "end": {twoDigits(h2) + ":00"}, "title": {title}, "category": {"art"},
		"expected_attendance": {"40"}, "public": {"yes"}, "item_chairs": {"20"}, "item_tables": {""},
		"accessibility_notes": {"Step-free path from the tram stop."}, "volunteers_needed": {"true"},
		"contact_name": {"Ayşe"}, "contact_email": {"ayse@example.org"}, "contact_phone": {""}}
}

func twoDigits(n int) string { return string(rune('0'+n/10)) + string(rune('0'+n%10)) }

// TestPages_Story is the story through the pages alone, without
// JavaScript, on both databases: a representative finds a free slot and
// asks for it with support items; another group asks for the same place and
// time; the manager sees the two side by side, rejects one with a reason
// and approves the other; the event is on the public calendar and its page;
// each group sees its booking's state and reason.
func TestPages_Story(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		pg := newPages(t, w)
		park := "/parks/" + w.park.ID

		list := pg.get(sdk.Principal{}, "/parks", 200)
		wantIn(t, "parks", list.Body, `href="`+park+`"`, "Living Park", "Kadıköy")
		if list.Meta.Title != "Parks" || list.Meta.NavActive != navParks {
			t.Errorf("meta %+v", list.Meta)
		}
		pp := pg.in("tr").get(w.rep, park, 200)
		wantIn(t, "park", pp.Body, "Meadow", `href="`+park+`/areas/`+w.stage.ID+`"`, "Sandalye: 50", `href="`+park+`/request"`)
		if strings.Contains(pp.Body, "/queue") {
			t.Error("a representative is shown the managers' queue")
		}

		// The meadow's free slots on Tuesday 10 June, linked to the form.
		area := pg.in("fi").get(w.rep, park+"/areas/"+w.meadow.ID+"?from=2025-06-10&days=3", 200)
		wantIn(t, "area", area.Body, "Enintään 300 henkilöä kerrallaan.", "Hae vähintään 1 vuorokausi ennen alkua.",
			">08.00–20.00<span class=\"ds-sr-only\">, ", "date=2025-06-10")
		slot := park + "/request?" + url.Values{"area_id": {w.meadow.ID}, "date": {"2025-06-10"}, "start": {"08:00"}, "end": {"20:00"}}.Encode()
		if !strings.Contains(area.Body, strings.ReplaceAll(slot, "&", "&amp;")) {
			t.Errorf("no link asks for the free day:\n%s", area.Body)
		}
		form := pg.in("sv").get(w.rep, slot, 200)
		wantIn(t, "form", form.Body, `value="2025-06-10"`, `value="08:00"`, "Art Collective", "Skicka ansökan",
			"Ansök minst 1 dygn före starten.", "50 av parkens 50 är lediga vid den tiden.")

		// A broken rule: 422, every value kept, the problem by its field, summary focused.
		bad := requestForm(w.meadow, orgID, 10, 10, 12, "")
		bad.Set("item_chairs", "60")
		r := pg.in("da").post(w.rep, park+"/request", bad, 422)
		if r.Meta.Focus != web.ErrorSummaryID {
			t.Errorf("focus %q", r.Meta.Focus)
		}
		wantIn(t, "422", r.Body, "Parken har kun 50.", `value="60"`, "Step-free path from the tram stop.", `aria-invalid="true"`)
		// A service rule in the viewer's words: the opening hours.
		late := requestForm(w.meadow, orgID, 10, 19, 22, "Late show")
		r = pg.in("fi").post(w.rep, park+"/request", late, 422)
		wantIn(t, "hours", r.Body, "Alue on osan ajasta suljettu: katso sen aukioloajat.", `value="Late show"`)

		ok := pg.post(w.rep, park+"/request", requestForm(w.meadow, orgID, 10, 10, 12, "Mural <b>painting</b>"), 303)
		if !strings.HasPrefix(ok.Location, park+"/bookings/") || !strings.HasSuffix(ok.Location, "?sent=1") {
			t.Fatalf("303 to %q", ok.Location)
		}
		first := strings.TrimSuffix(strings.TrimPrefix(ok.Location, park+"/bookings/"), "?sent=1")
		sent := pg.get(w.rep, ok.Location, 200)
		if sent.Meta.Announce == "" || sent.Meta.Title != "Mural <b>painting</b>" || strings.Contains(sent.Body, "<b>painting") {
			t.Errorf("after sending: %+v %s", sent.Meta, sent.Body)
		}
		wantIn(t, "sent", sent.Body, "Chairs: 20", "Waiting for a decision", "Step-free path")
		// The other group asks for the stage inside the meadow at the same time.
		second := requestForm(w.stage, org2ID, 10, 11, 13, "Puppet theatre")
		ok2 := pg.post(w.rep2, park+"/request", second, 303)
		other := strings.TrimSuffix(strings.TrimPrefix(ok2.Location, park+"/bookings/"), "?sent=1")

		// Neither group sees the other's request.
		pg.get(w.rep2, park+"/bookings/"+first, 404)

		// The manager's queue shows the two side by side.
		q := pg.get(w.manager, park+"/queue", 200)
		wantIn(t, "queue", q.Body, "2 requests for the same place and time", "Mural &lt;b&gt;painting&lt;/b&gt;", "Puppet theatre", "Collides")
		if strings.Count(q.Body, "<table") != 1 {
			t.Errorf("the colliding requests are not in one table:\n%s", q.Body)
		}
		bp := pg.get(w.manager, park+"/bookings/"+other, 200)
		wantIn(t, "booking", bp.Body, "Requests for the same place and time", "Mural", "ayse@example.org", "/reject")
		// Rejecting needs a reason.
		r = pg.post(w.manager, park+"/bookings/"+other+"/reject", url.Values{"reason": {" "}}, 422)
		wantIn(t, "no reason", r.Body, "Give a reason.")
		if w.booking(other).Status != StatusRequested {
			t.Fatal("a refused rejection changed the booking")
		}
		r = pg.post(w.manager, park+"/bookings/"+other+"/reject", url.Values{"reason": {"The stage is taken by a larger event."}}, 303)
		if r.Location != park+"/bookings/"+other+"?done=rejected" {
			t.Errorf("reject went to %q", r.Location)
		}
		r = pg.post(w.manager, park+"/bookings/"+first+"/approve", url.Values{"back": {"queue"}}, 303)
		if !strings.HasPrefix(r.Location, park+"/queue?") {
			t.Errorf("approve from the queue went to %q", r.Location)
		}
		q = pg.get(w.manager, r.Location, 200)
		wantIn(t, "queue after", q.Body, "No requests are waiting.", "The request was approved")
		// The approved event's chairs are no longer free that day.
		wantIn(t, "free items", pg.get(w.rep2, slot, 200).Body, "30 of the park&#39;s 50 are free at that time.")

		// On the public calendar, its week and its event page, for anyone.
		cal := pg.in("tr").get(sdk.Principal{}, "/parks/calendar?view=week&date=2025-06-11", 200)
		wantIn(t, "calendar", cal.Body, "Mural &lt;b&gt;painting&lt;/b&gt;", "Onaylandı", "Meadow, Living Park", park+"/events/"+first)
		if strings.Contains(cal.Body, "Puppet") {
			t.Error("a rejected request is on the public calendar")
		}
		pg.get(sdk.Principal{}, "/parks/calendar?view=day&date=2025-06-10&category=play", 200)
		if c := pg.get(sdk.Principal{}, "/parks/calendar?view=day&date=2025-06-10&category=play", 200); strings.Contains(c.Body, "Mural") {
			t.Error("the category filter let an art event through")
		}
		ev := pg.get(sdk.Principal{}, park+"/events/"+first, 200)
		wantIn(t, "event", ev.Body, "Art Collective", "/api/v1/parks/"+w.park.ID+"/events.ics", "Add to your calendar")
		if strings.Contains(ev.Body, "ayse@example.org") {
			t.Error("the public event page shows the contact's address")
		}
		// Each group sees its booking's state; the rejected one with the reason.
		wantIn(t, "mine", pg.get(w.rep, "/parks/bookings", 200).Body, "Mural", "Approved")
		wantIn(t, "mine 2", pg.get(w.rep2, "/parks/bookings", 200).Body, "Puppet theatre", "Rejected", "The stage is taken by a larger event.")
		// The neighbourhood's card.
		w.clock.Set(monday0900.AddDate(0, 0, 7))
		card := pg.get(sdk.Principal{}, "/parks/cards/neighbourhood/"+nbhID, 200)
		wantIn(t, "card", card.Body, "Mural")
		w.clock.Set(monday0900)

		// The group cancels with a reason; the calendar keeps it, marked cancelled.
		pg.post(w.rep, park+"/bookings/"+first+"/cancel", url.Values{"cancel_reason": {""}}, 422)
		pg.post(w.rep, park+"/bookings/"+first+"/cancel", url.Values{"cancel_reason": {"Rain is forecast."}}, 303)
		wantIn(t, "cancelled", pg.get(sdk.Principal{}, park+"/events/"+first, 200).Body, "This event has been cancelled.")
	})
}

// TestPages_Guards: the host refuses a page's route to whoever lacks its
// permission, and the plugin still checks the object: a manager of another
// neighbourhood gets no queue, a group no other group's booking.
func TestPages_Guards(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		pg := newPages(t, w)
		park := "/parks/" + w.park.ID
		b := w.mustRequest(w.rep, orgID, w.meadow, 10, 10, 12)
		w.host.Grant("elsewhere", RoleParkManager, "nbh:nbh-2")
		elsewhere := w.host.Principal("elsewhere")

		pg.get(sdk.Principal{}, park+"/queue", 401)
		pg.get(w.rep, park+"/queue", 403)
		pg.get(elsewhere, park+"/queue", 403)
		pg.get(elsewhere, park+"/closures", 403)
		if r := pg.do(elsewhere, "POST", park+"/bookings/"+b.ID+"/approve", url.Values{}); r.Status != 403 && r.Status != 404 {
			t.Errorf("a manager of another neighbourhood approving: %d", r.Status)
		}
		pg.post(w.rep2, park+"/bookings/"+b.ID+"/cancel", url.Values{"cancel_reason": {"mine now"}}, 404)
		// Residents hold the permission for when the city lets them book alone;
		// this city does not, so the page says who may ask and offers no form.
		if r := pg.get(w.resident, park+"/request", 200); strings.Contains(r.Body, "<form") {
			t.Errorf("a resident is offered the form:\n%s", r.Body)
		}
		pg.get(w.stranger, park+"/request", 403)
		pg.get(w.rep2, park+"/bookings/"+b.ID, 404)
		if got := w.booking(b.ID).Status; got != StatusRequested {
			t.Errorf("status %s after refused decisions", got)
		}
		// A request for another group the representative does not represent.
		r := pg.post(w.rep, park+"/request", requestForm(w.meadow, org2ID, 11, 10, 12, "Not ours"), 422)
		wantIn(t, "org", r.Body, "Only a representative of the organisation can ask on its behalf.")
		// Input that must not become a 500 on either database.
		for name, v := range map[string]string{"nul": "a\x00b", "overflow": "99999999999", "bad utf8": "\xff"} {
			f := requestForm(w.meadow, orgID, 12, 10, 12, "Fine")
			f.Set("expected_attendance", v)
			if r := pg.do(w.rep, "POST", park+"/request", f); r.Status != 422 {
				t.Errorf("%s: %d", name, r.Status)
			}
		}
		if r := pg.do(sdk.Principal{}, "GET", park+"/areas/"+w.meadow.ID+"?days=1000", nil); r.Status != 422 {
			t.Errorf("days=1000: %d", r.Status)
		}
		if r := pg.do(sdk.Principal{}, "GET", "/parks/calendar?view=year", nil); r.Status != 422 || r.Meta.Focus != web.ErrorSummaryID {
			t.Errorf("view=year: %d %+v", r.Status, r.Meta)
		}
		pg.get(sdk.Principal{}, "/parks/00000000-0000-0000-0000-000000000000", 404)
	})
}

// TestPages_Closures: a closure over an approved event is refused with the
// events it would hit listed and nothing changed; with cancel_bookings and a
// reason it goes ahead.
func TestPages_Closures(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		pg := newPages(t, w)
		park := "/parks/" + w.park.ID
		b := w.mustRequest(w.rep, orgID, w.stage, 12, 10, 12, func(in *BookingInput) { in.Title = "Concert" })
		w.mustApprove(b.ID)
		f := url.Values{"area_id": {w.whole.ID}, "title": {"Reseeding"}, "start_date": {"2025-06-12"}, "start_time": {"08:00"},
			"end_date": {"2025-06-13"}, "end_time": {"20:00"}}
		r := pg.in("sv").post(w.manager, park+"/closures", f, 422)
		wantIn(t, "hits", r.Body, "Bokningar som avstängningen träffar", "Concert", "Ett godkänt evenemang är i vägen")
		if w.booking(b.ID).Status != StatusApproved {
			t.Fatal("a refused closure cancelled the event")
		}
		f.Set("cancel_bookings", "true")
		r = pg.post(w.manager, park+"/closures", f, 422)
		wantIn(t, "reason", r.Body, "Give a reason.")
		f.Set("reason", "The lawn is reseeded.")
		pg.post(w.manager, park+"/closures", f, 303)
		if got := w.booking(b.ID).Status; got != StatusCancelled {
			t.Errorf("event %s after the closure", got)
		}
		wantIn(t, "closures", pg.get(w.manager, park+"/closures?done=1", 200).Body, "Reseeding", "The area was closed")
	})
}

// TestPages_Languages renders every page in every language with the
// catalog checked for each message asked (newPages fails on a missing one).
func TestPages_Languages(t *testing.T) {
	w := newWorld(t, variantSQLite, sdktest.SQLiteStore(t), nil)
	pg := newPages(t, w)
	park := "/parks/" + w.park.ID
	b := w.mustRequest(w.rep, orgID, w.meadow, 10, 10, 12)
	w.mustRequest(w.rep2, org2ID, w.stage, 10, 11, 13)
	for _, lang := range i18n.Required {
		l := pg.in(lang)
		for _, target := range []string{"/parks", park, park + "/areas/" + w.stage.ID, "/parks/calendar?view=month&date=2025-06-01",
			"/parks/cards/home", "/parks/cards/neighbourhood/" + nbhID} {
			l.get(sdk.Principal{}, target, 200)
		}
		l.get(w.rep, park+"/request", 200)
		l.get(w.rep, "/parks/bookings", 200)
		l.get(w.rep, park+"/bookings/"+b.ID, 200)
		l.get(w.manager, park+"/queue", 200)
		l.get(w.manager, park+"/bookings/"+b.ID, 200)
		l.get(w.manager, park+"/closures", 200)
		l.get(w.manager, park+"/edit", 200)
		l.get(w.manager, park+"/areas/new", 200)
		l.get(w.manager, park+"/areas/"+w.meadow.ID+"/edit", 200)
	}
	if m := New().Manifest(); len(m.UI.Nav) != 3 || len(m.UI.Cards) != 2 {
		t.Errorf("ui %+v", m.UI)
	} else {
		for _, lang := range i18n.Required {
			if m.UI.Nav[0].Labels[lang] == "" || m.UI.Cards[0].Labels[lang] == "" {
				t.Errorf("no %s label", lang)
			}
		}
	}
}

// TestPages_Edits: a manager edits the park's details and stock, and an
// area's hours; a change that breaks a coming booking lists it and is saved
// only when confirmed, the booking kept; someone else cannot edit.
func TestPages_Edits(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		pg := newPages(t, w)
		park := "/parks/" + w.park.ID
		b := w.mustRequest(w.rep, orgID, w.stage, 12, 17, 19, func(in *BookingInput) { in.Title = "Evening concert" })
		w.mustApprove(b.ID)

		pg.get(w.rep, park+"/edit", 403)
		f := url.Values{"name": {"Living Park"}, "street_address": {"Şair Eşref Blv."}, "postal_code": {"35220"}, "locality": {"İzmir"},
			"latitude": {"100"}, "longitude": {"27.1432"}, "item_chairs": {"80"}, "item_tables": {"10"}, "item_sound_system": {"1"},
			"new_item": {"Waste bins"}, "new_quantity": {"6"}}
		r := pg.post(w.manager, park+"/edit", f, 422)
		wantIn(t, "latitude", r.Body, "Enter a latitude from -90 to 90")
		f.Set("latitude", "38.4299")
		pg.post(w.manager, park+"/edit", f, 303)
		pp := pg.get(sdk.Principal{}, park, 200)
		wantIn(t, "park", pp.Body, "Şair Eşref Blv., 35220 İzmir", "openstreetmap.org/?mlat=38.42990", "Chairs: 80", "Waste bins: 6")

		// The plan: an image the host received (its id in the form) and its text.
		const upload = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"
		pg.post(w.manager, park+"/plan", url.Values{}, 422)
		r = pg.post(w.manager, park+"/plan", url.Values{"plan": {upload}, "plan_alt": {" "}}, 422)
		wantIn(t, "plan alt", r.Body, "Describe what the plan shows.")
		pg.post(w.manager, park+"/plan", url.Values{"plan": {upload}, "plan_alt": {"Entrances on the north and east; toilets by the café."}}, 303)
		wantIn(t, "plan", pg.get(sdk.Principal{}, park, 200).Body, `<img src="/uploads/`+upload+`" alt="Entrances on the north and east; toilets by the café."`)

		edit := url.Values{"name": {"Meadow"}, "capacity": {"300"}, "slot_granularity_minutes": {"30"}, "min_duration_minutes": {"60"},
			"max_duration_minutes": {"480"}, "min_notice_minutes": {"1440"}, "booking_horizon_days": {"180"}}
		for _, d := range weekdayNames {
			edit.Set("opens_"+d, "08:00")
			edit.Set("closes_"+d, "18:00") // the concert runs to 19:00
		}
		r = pg.in("fi").post(w.manager, park+"/areas/"+w.meadow.ID+"/edit", edit, 422)
		wantIn(t, "conflicts", r.Body, "Tulevat varaukset, joita muutos rikkoo", "Evening concert", "Tallenna silti")
		if got := w.booking(b.ID).Status; got != StatusApproved {
			t.Fatalf("a previewed change touched the booking: %s", got)
		}
		edit.Set("confirm", "true")
		pg.post(w.manager, park+"/areas/"+w.meadow.ID+"/edit", edit, 303)
		if got := w.booking(b.ID).Status; got != StatusApproved {
			t.Errorf("a saved change cancelled the booking: %s", got)
		}
		wantIn(t, "area", pg.get(sdk.Principal{}, park+"/areas/"+w.meadow.ID, 200).Body, "08:00–18:00")
		// A new area under the meadow.
		na := url.Values{"name": {"Picnic corner"}, "parent_id": {w.meadow.ID}, "capacity": {"0"}}
		pg.post(w.manager, park+"/areas/new", na, 422)
		na.Set("capacity", "20")
		r = pg.post(w.manager, park+"/areas/new", na, 303)
		wantIn(t, "new area", pg.get(sdk.Principal{}, park, 200).Body, "Picnic corner")
	})
}
