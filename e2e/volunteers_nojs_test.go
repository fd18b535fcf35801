package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// volunteersClient is a browser without JavaScript: plain GETs and form posts, a
// cookie jar for the session, redirects not followed so each 303 is seen.
type volunteersClient struct {
	t     *testing.T
	forms *Forms
}

func newVolunteersClient(t *testing.T, base, lang string) *volunteersClient {
	return &volunteersClient{t: t, forms: NewForms(t, base, lang)}
}

// do sends one request; form nil is a GET.
func (c *volunteersClient) do(path string, form url.Values) (int, string, string) {
	c.t.Helper()
	method := http.MethodGet
	if form != nil {
		method = http.MethodPost
	}
	a := c.forms.Send(method, path, form)
	return a.Status, a.Body, a.Location
}

// must fails the test unless the answer has status want and contains every part.
func (c *volunteersClient) must(want int, path string, form url.Values, parts ...string) (string, string) {
	c.t.Helper()
	status, body, location := c.do(path, form)
	if status != want {
		c.t.Fatalf("%s = %d, want %d (to %q)\n%s", path, status, want, location, body)
	}
	for _, p := range parts {
		if !strings.Contains(body, p) {
			c.t.Errorf("%s lacks %q", path, p)
		}
	}
	return body, location
}

func (c *volunteersClient) signIn(email, password string) {
	c.t.Helper()
	if _, to := c.must(303, "/sign-in", url.Values{"email": {email}, "password": {password}}); to == "/sign-in" {
		c.t.Fatalf("signing in as %s failed", email)
	}
}

var volunteersAction = func(verb string) *regexp.Regexp {
	return regexp.MustCompile(`action="(/volunteers/opportunities/[^"]+/` + verb + `)"`)
}

// TestVolunteersStory_NoJS is the story of TestVolunteersStory without JavaScript, in
// every language: every step a plain form, answered 303 on success and 422 with the
// error summary on a broken rule.
func TestVolunteersStory_NoJS(t *testing.T) {
	c := volunteersStart(t)
	for i, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			title := fmt.Sprintf("Parkta fidan dikimi %d", i+1)
			oppID, shiftID := c.volunteersOpportunity(t, title)
			email := fmt.Sprintf("nojs-%s@example.org", lang)
			password := "a long enough passphrase without scripts"
			name := "Emre Şahin " + strings.ToUpper(lang)

			v := newVolunteersClient(t, c.base, lang)
			v.must(200, "/volunteers?newcomers=true&age=30", nil, title, `lang="`+lang)
			v.must(200, "/volunteers/opportunities/"+oppID, nil, "Bostanlı Sahili", "/sign-in?back=")
			if _, to := v.must(303, "/register", url.Values{"display_name": {name}, "email": {email}, "password": {password}}); to != "/sign-in" {
				t.Fatalf("registering goes to %q", to)
			}
			v.signIn(email, password)

			v.must(200, "/volunteers/profile", nil, `name="avail_saturday"`)
			v.must(422, "/volunteers/profile", url.Values{"languages": {"tr"}, "skills": {"first_aid"}}, "kv-error-summary", `value="tr" checked`)
			if _, to := v.must(303, "/volunteers/profile", url.Values{"languages": {"tr"}, "skills": {"first_aid"},
				"avail_saturday": {"morning"}, "birth_date": {"17.05.1990"}}); to != "/volunteers/profile?saved=1" {
				t.Fatalf("saving the profile goes to %q", to)
			}
			apply := "/volunteers/opportunities/" + oppID + "/shifts/" + shiftID + "/apply"
			if _, to := v.must(303, apply, url.Values{}); !strings.HasSuffix(to, "?applied=1") {
				t.Fatalf("applying goes to %q", to)
			}

			o := newVolunteersClient(t, c.base, lang)
			o.signIn(c.rep.Email, c.rep.Password)
			matches, _ := o.must(200, "/volunteers/organise/"+oppID+"/shifts/"+shiftID+"/matches", nil)
			if strings.Contains(matches, name) {
				t.Errorf("the matches name %s before the organiser accepted them", name)
			}
			accept := volunteersAction("accept").FindStringSubmatch(matches)
			if accept == nil {
				t.Fatalf("the matches page offers no acceptance:\n%s", matches)
			}
			if _, to := o.must(303, accept[1], url.Values{}); to != "/volunteers/organise/"+oppID+"?done=accept" {
				t.Errorf("accepting goes to %q", to)
			}

			mine, _ := v.must(200, "/volunteers/mine", nil, title)
			confirm := volunteersAction("confirm").FindStringSubmatch(mine)
			if confirm == nil {
				t.Fatalf("my volunteering offers no confirmation:\n%s", mine)
			}
			if _, to := v.must(303, confirm[1], url.Values{}); to != "/volunteers/mine?done=confirm" {
				t.Errorf("confirming goes to %q", to)
			}
			mine, _ = v.must(200, "/volunteers/mine?done=confirm", nil, `aria-labelledby="confirmed"`, title)
			if volunteersAction("confirm").MatchString(mine) {
				t.Error("the confirmed shift still offers a confirmation")
			}
			// Confirming twice is explained, not a server error.
			v.must(422, confirm[1], url.Values{}, "kv-error-summary")
		})
	}
}
