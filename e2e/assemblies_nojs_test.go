package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
)

// assembliesClient is a browser without JavaScript: it signs in through the sign-in
// form, keeps the session cookie, posts plain url-encoded forms as the site's own
// pages do (Sec-Fetch-Site: same-origin) and follows no redirect, so a test sees each
// 303 of Post/Redirect/Get.
type assembliesClient struct {
	t       *testing.T
	forms   *Forms
	lang    string
	lastURL string
}

type assembliesAnswer struct {
	status   int
	location string
	body     string
}

func (c *assembliesClient) send(method, path string, form url.Values) assembliesAnswer {
	c.t.Helper()
	c.forms.Lang = c.lang
	a := c.forms.Send(method, path, form)
	return assembliesAnswer{a.Status, a.Location, a.Body}
}

// must sends and fails unless the status is want.
func (c *assembliesClient) must(want int, method, path string, form url.Values) assembliesAnswer {
	c.t.Helper()
	a := c.send(method, path, form)
	if a.status != want {
		c.t.Fatalf("%s %s = %d, want %d: %.2000s", method, path, a.status, want, a.body)
	}
	return a
}

// post sends a form and, as a browser does, follows its 303 with a GET.
func (c *assembliesClient) post(path string, form url.Values) assembliesAnswer {
	c.t.Helper()
	a := c.must(http.StatusSeeOther, "POST", path, form)
	c.lastURL = a.location
	return c.must(http.StatusOK, "GET", a.location, nil)
}

func assembliesSignIn(t *testing.T, base string, u *coretest.User) *assembliesClient {
	t.Helper()
	c := &assembliesClient{t: t, forms: NewForms(t, base, "en"), lang: "en"}
	c.must(http.StatusSeeOther, "POST", "/sign-in", url.Values{"email": {u.Email}, "password": {u.Password}})
	if c.forms.Session() == "" {
		t.Fatalf("signing %s in set no session cookie", u.Email)
	}
	return c
}

// TestAssembliesPages_NoJavaScript is the same story as TestAssembliesPages with
// plain HTTP forms against the real node — no script runs, every step is a form post
// answered 303 or 422 — and checks what each page then says.
func TestAssembliesPages_NoJavaScript(t *testing.T) {
	tw := newAssembliesTown(t)
	asm := "/assemblies/" + tw.asm

	// The chair schedules a meeting: refused without a title (422, the summary),
	// then a hybrid meeting.
	chair := assembliesSignIn(t, tw.base, tw.chair)
	bad := chair.must(http.StatusUnprocessableEntity, "POST", asm+"/meetings", url.Values{"date": {assembliesMeetingDay()},
		"starts_at": {"18:00"}, "ends_at": {"20:00"}, "place": {"Community hall"}})
	if !strings.Contains(bad.body, `id="kv-error-summary"`) || !strings.Contains(bad.body, "Give the meeting a title") ||
		!strings.Contains(bad.body, `value="Community hall"`) {
		t.Errorf("refused meeting: %.3000s", bad.body)
	}
	meeting := chair.post(asm+"/meetings", url.Values{"title": {"Shore meeting"}, "date": {assembliesMeetingDay()},
		"starts_at": {"18:00"}, "ends_at": {"20:00"}, "place": {"Community hall"}, "online_url": {"https://meet.example.org/k"},
		"agenda": {"Opening\nBenches on the shore"}})
	for _, want := range []string{"Community hall, and online", "Benches on the shore", "The meeting was scheduled."} {
		if !strings.Contains(meeting.body, want) {
			t.Errorf("meeting page lacks %q", want)
		}
	}

	// A member drafts a motion.
	author := assembliesSignIn(t, tw.base, tw.members[1])
	author.post(asm+"/motions", url.Values{"title": {"Benches on the shore"}, "text": {"Place six benches along the shore path."}})
	motion := strings.Split(author.lastURL, "?")[0]
	if !regexp.MustCompile(`^/assemblies/[^/]+/motions/[^/]+$`).MatchString(motion) {
		t.Fatalf("after drafting: %q", author.lastURL)
	}

	// The chair tables it and opens a secret vote.
	chair.post(motion+"/table", url.Values{})
	open := chair.post(motion+"/open", url.Values{"secrecy": {"secret"}})
	if !strings.Contains(open.body, "The vote is secret.") {
		t.Errorf("after opening: %.3000s", open.body)
	}

	// Six members vote in the booth; no receipt repeats a secret choice.
	choices := []string{"yes", "yes", "yes", "yes", "no", "abstain"}
	for i, u := range tw.members {
		c := chair
		if i > 0 {
			c = assembliesSignIn(t, tw.base, u)
		}
		booth := c.must(http.StatusOK, "GET", motion+"/vote", nil)
		if !strings.Contains(booth.body, "What is stored") || !strings.Contains(booth.body, `type="radio"`) {
			t.Errorf("booth: %.3000s", booth.body)
		}
		// The booth answers the ballot with its confirmation (no redirect).
		receipt := c.must(http.StatusOK, "POST", motion+"/vote", url.Values{"choice": {choices[i]}})
		if !strings.Contains(receipt.body, "Your ballot is cast") || strings.Contains(receipt.body, "You voted") {
			t.Errorf("secret receipt: %.3000s", receipt.body)
		}
		if i == 0 {
			again := c.must(http.StatusUnprocessableEntity, "POST", motion+"/vote", url.Values{"choice": {"no"}})
			if !strings.Contains(again.body, `id="kv-error-summary"`) {
				t.Errorf("a second ballot: %.3000s", again.body)
			}
		}
	}

	// The chair closes it: adopted 4–1–1.
	closed := chair.post(motion+"/close", url.Values{})
	if !strings.Contains(closed.body, "The vote closed: Adopted (4 yes, 1 no, 1 abstaining).") {
		t.Errorf("after the close: %.5000s", closed.body)
	}

	// The city responder answers from the inbox.
	kent := assembliesSignIn(t, tw.base, tw.responder)
	if inbox := kent.must(http.StatusOK, "GET", "/assemblies/inbox", nil); !strings.Contains(inbox.body, `href="`+motion+`"`) {
		t.Errorf("inbox lacks the motion: %.3000s", inbox.body)
	}
	kent.must(http.StatusUnprocessableEntity, "POST", motion+"/city/answered", url.Values{"decision": {"accepted"}})
	kent.post(motion+"/city/answered", url.Values{"decision": {"accepted"}, "reasoning": {"Six benches will be placed in May."}})

	// Members cannot answer for the city: the host refuses before the plugin sees it.
	if a := author.send("POST", motion+"/city/implemented", url.Values{}); a.status != http.StatusForbidden {
		t.Errorf("a member marks the city's answer implemented: %d", a.status)
	}

	// An anonymous visitor reads the whole timeline.
	anon := &assembliesClient{t: t, forms: NewForms(t, tw.base, "en"), lang: "en"}
	public := anon.must(http.StatusOK, "GET", motion, nil)
	for _, want := range []string{"Mehmet Demir drafted the motion.", "tabled the motion", "put the motion to the vote",
		"The vote closed: Adopted (4 yes, 1 no, 1 abstaining).", "sent to the city", "The city answered: The city accepts the motion.",
		"Six benches will be placed in May."} {
		if !strings.Contains(public.body, want) {
			t.Errorf("public motion page lacks %q", want)
		}
	}
	if strings.Contains(strings.SplitN(public.body, `<main`, 2)[len(strings.SplitN(public.body, `<main`, 2))-1], `action="`+motion) {
		t.Error("the anonymous visitor is offered a form on the motion")
	}
	// And in the other languages, the same page in their words.
	for lang, want := range map[string]string{"fi": "Kaupunki vastasi", "sv": "Staden svarade", "da": "Kommunen svarede", "tr": "Belediye yanıt verdi"} {
		anon.lang = lang
		if got := anon.must(http.StatusOK, "GET", motion, nil); !strings.Contains(got.body, want) {
			t.Errorf("%s: the motion page lacks %q", lang, want)
		}
	}
}
