package web

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
)

// TestCookieValue_AsNetHTTP: the pages read their cookies with cookieValue, which
// must find what r.Cookie finds, in every Cookie header a browser or an attacker could
// send: quoted values, bytes a cookie may not hold, names with spaces around, empty
// parts, several lines, too many cookies.
func TestCookieValue_AsNetHTTP(t *testing.T) {
	rnd := rand.New(rand.NewPCG(18, 2026))
	pieces := []string{"kvarter_session", "kvarter_lang", "kvarter_flash", "x", "=", ";", "; ", " ", "\t", `"`, `\`,
		"abc", "fi", "Zm9v_-", "é", "\x7f", "\x01", ",", "kvarter_session=", "kvarter_lang=sv"}
	line := func() string {
		var b strings.Builder
		for range rnd.IntN(12) {
			b.WriteString(pieces[rnd.IntN(len(pieces))])
		}
		return b.String()
	}
	for i := range 50000 {
		r := &http.Request{Header: http.Header{}}
		for range 1 + rnd.IntN(2) {
			r.Header.Add("Cookie", line())
		}
		for _, name := range []string{"kvarter_session", "kvarter_lang", "kvarter_flash", "x"} {
			got, ok := cookieValue(r, name)
			c, err := r.Cookie(name)
			if want := err == nil; ok != want || ok && got != c.Value {
				t.Fatalf("%d: Cookie %q, %s: cookieValue %q %v, r.Cookie %v %v", i, r.Header["Cookie"], name, got, ok, c, err)
			}
		}
	}
	many := &http.Request{Header: http.Header{"Cookie": {"kvarter_lang=fi" + strings.Repeat("; a=b", maxCookies)}}}
	if _, err := many.Cookie("kvarter_lang"); err == nil {
		t.Fatalf("net/http reads past %d cookies: maxCookies is not its limit", maxCookies)
	}
	if v, ok := cookieValue(many, "kvarter_lang"); ok {
		t.Errorf("past %d cookies: read %q, want none as net/http", maxCookies, v)
	}
}
