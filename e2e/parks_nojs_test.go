package e2e

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// parksClient is a browser without JavaScript: plain GETs and form POSTs
// against the real node with a session cookie, redirects not followed, so
// each 303 of Post/Redirect/Get is seen.
type parksClient struct {
	t     *testing.T
	forms *Forms
}

type parksAnswer struct {
	status   int
	location string
	body     string
}

// newParksClient is a browser signed in with the session token ("" signed out).
func newParksClient(t *testing.T, base, token, lang string) parksClient {
	f := NewForms(t, base, lang)
	if token != "" {
		f.SetSession(token)
	}
	return parksClient{t: t, forms: f}
}

func (c parksClient) send(method, path string, form url.Values) parksAnswer {
	c.t.Helper()
	a := c.forms.Send(method, path, form)
	return parksAnswer{a.Status, a.Location, a.Body}
}

func (c parksClient) want(method, path string, form url.Values, status int, parts ...string) parksAnswer {
	c.t.Helper()
	a := c.send(method, path, form)
	if a.status != status {
		c.t.Fatalf("%s %s (%s) = %d, want %d\n%s", method, path, c.forms.Lang, a.status, status, a.body)
	}
	text := html.UnescapeString(a.body)
	for _, p := range parts {
		if !strings.Contains(text, p) {
			c.t.Errorf("%s %s (%s) lacks %q", method, path, c.forms.Lang, p)
		}
	}
	return a
}

// firstHref is the first link in body whose address contains part.
func firstHref(t *testing.T, body, part string) string {
	t.Helper()
	for _, m := range regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		if h := html.UnescapeString(m[1]); strings.Contains(h, part) {
			return h
		}
	}
	t.Fatalf("no link with %q", part)
	return ""
}

// TestParks_StoryWithoutJavaScript is TestParks_Story with plain HTTP forms,
// in each language: the free slot's link, the request form (422 on a
// broken rule, 303 when sent), the queue with the collision, the rejection
// with a reason and the approval, the public calendar and the event page —
// every step a page the host frames in full, no script needed.
func TestParks_StoryWithoutJavaScript(t *testing.T) {
	c := startParksCity(t)
	words := map[string]struct{ sent, contest, approved, card string }{
		"en": {"Your request was sent.", "2 requests for the same place and time", "Approved", "This week in the city's parks"},
		"fi": {"Hakemuksesi on lähetetty.", "2 hakemusta samasta paikasta ja ajasta", "Hyväksytty", "Tällä viikolla kaupungin puistoissa"},
		"sv": {"Din ansökan har skickats.", "2 ansökningar om samma plats och tid", "Godkänd", "Den här veckan i stadens parker"},
		"da": {"Din anmodning er sendt.", "2 anmodninger om samme sted og tid", "Godkendt", "I denne uge i byens parker"},
		"tr": {"Talebiniz gönderildi.", "Aynı yer ve zaman için 2 talep", "Onaylandı", "Bu hafta şehrin parklarında"},
	}
	for i, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			w := words[lang]
			date := c.day(20 + i)
			title := "Açık atölye " + lang
			otherTitle := "Kukla " + lang
			other := c.otherRequest(t, date, otherTitle)
			rep := newParksClient(t, c.base, c.rep.Token, lang)
			manager := newParksClient(t, c.base, c.manager.Token, lang)
			anon := newParksClient(t, c.base, "", lang)
			parkPath := "/parks/" + c.park
			// The frame's language switcher, a plain form: a signed-in person's
			// choice goes to their profile, which wins over Accept-Language.
			for _, u := range []parksClient{rep, manager} {
				u.want("POST", "/language", url.Values{"lang": {lang}, "back": {"/parks"}}, 303)
			}

			area := rep.want("GET", parkPath+"/areas/"+c.meadow+"?from="+date+"&days=1", nil, 200, "Çayır")
			slot := firstHref(t, area.body, "date="+date)
			form := rep.want("GET", slot, nil, 200, c.orgName)
			if !strings.Contains(form.body, `value="`+date+`"`) {
				t.Errorf("the form does not carry the slot's date")
			}
			fields := url.Values{"organisation_id": {c.org}, "area_id": {c.meadow}, "date": {date}, "start": {"10:00"}, "end": {"12:00"},
				"title": {""}, "category": {"workshop"}, "expected_attendance": {"40"}, "public": {"yes"},
				"item_chairs": {"20"}, "item_tables": {"4"}, "contact_name": {"Ayşe Yılmaz"}, "contact_email": {"ayse@example.org"}}
			bad := rep.want("POST", parkPath+"/request", fields, 422, "Ayşe Yılmaz")
			if !strings.Contains(bad.body, `id="kv-error-summary"`) {
				t.Errorf("the 422 has no error summary:\n%s", bad.body)
			}
			fields.Set("title", title)
			sent := rep.want("POST", parkPath+"/request", fields, 303)
			rep.want("GET", sent.location, nil, 200, w.sent, title)

			manager.want("GET", parkPath+"/queue", nil, 200, w.contest, title, otherTitle)
			manager.want("POST", parkPath+"/bookings/"+other+"/reject", url.Values{"reason": {""}}, 422)
			rej := manager.want("POST", parkPath+"/bookings/"+other+"/reject", url.Values{"reason": {"Sahne o saatte dolu."}}, 303)
			manager.want("GET", rej.location, nil, 200, "Sahne o saatte dolu.")
			queue := manager.want("GET", parkPath+"/queue", nil, 200, title)
			approve := regexp.MustCompile(`action="([^"]+/approve)"`).FindStringSubmatch(queue.body)
			if approve == nil {
				t.Fatalf("no approve form in the queue:\n%s", queue.body)
			}
			ok := manager.want("POST", html.UnescapeString(approve[1]), url.Values{"back": {"queue"}}, 303)
			if !strings.Contains(ok.location, "/queue?") {
				t.Errorf("approving from the queue went to %s", ok.location)
			}

			cal := anon.want("GET", "/parks/calendar?"+url.Values{"view": {"day"}, "date": {date}}.Encode(), nil, 200, title, w.approved)
			if strings.Contains(cal.body, otherTitle) {
				t.Error("the rejected request is on the public calendar")
			}
			event := firstHref(t, cal.body, parkPath+"/events/")
			ev := anon.want("GET", event, nil, 200, title, c.orgName, "/api/v1/parks/"+c.park+"/events.ics")
			if strings.Contains(ev.body, "ayse@example.org") {
				t.Error("the public event page shows the contact's address")
			}
			// The home page carries the parks' card, drawn by the plugin inside the frame.
			anon.want("GET", "/", nil, 200, w.card, "/parks/calendar")
			// The feed the page links to carries the event.
			feed := anon.want("GET", "/api/v1/parks/"+c.park+"/events.ics", nil, 200, "BEGIN:VCALENDAR")
			if !strings.Contains(strings.ReplaceAll(feed.body, "\r\n ", ""), title) {
				t.Errorf("the feed lacks the event")
			}
		})
	}
}
