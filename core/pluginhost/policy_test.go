package pluginhost

import (
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/internal/twogen"
	"github.com/kvarter/kvarter/sdk"
)

func TestRestartDelay(t *testing.T) {
	for n, want := range map[int]time.Duration{0: 100 * time.Millisecond, 1: 100 * time.Millisecond, 2: 200 * time.Millisecond,
		3: 400 * time.Millisecond, 5: 1600 * time.Millisecond, 6: 2 * time.Second, 50: 2 * time.Second} {
		if got := RestartDelay(n); got != want {
			t.Errorf("RestartDelay(%d) = %s, want %s", n, got, want)
		}
	}
	// Three crashes in a row are restarted within 5 s in all.
	if total := RestartDelay(1) + RestartDelay(2) + RestartDelay(3); total >= 5*time.Second {
		t.Errorf("restart delays add up to %s", total)
	}
}

func TestRecordCrash(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var crashes []time.Time
	var spent bool
	crashes, spent = RecordCrash(crashes, now)
	if spent || len(crashes) != 1 {
		t.Fatalf("first crash: %v %v", crashes, spent)
	}
	crashes, spent = RecordCrash(crashes, now.Add(time.Minute))
	if spent {
		t.Fatal("second crash spent the budget")
	}
	t.Run("OldCrashesForgotten", func(t *testing.T) {
		c, spent := RecordCrash(crashes, now.Add(CrashWindow+2*time.Minute))
		if spent || len(c) != 1 {
			t.Fatalf("after an hour: %v %v", c, spent)
		}
	})
	t.Run("ThirdWithinWindowFails", func(t *testing.T) {
		if _, spent := RecordCrash(crashes, now.Add(30*time.Minute)); !spent {
			t.Fatal("third crash within the window did not spend the budget")
		}
	})
}

func TestVersionAtLeast(t *testing.T) {
	for _, c := range []struct {
		v, min string
		want   bool
	}{
		{"0.1.0", "0.1.0", true}, {"0.10.1", "0.9", true}, {"0.1.0-dev", "0.1.0", true}, {"0.1.0", "0.2.0", false},
		{"1.0", "1.0.1", false}, {"dev", "9.9.9", true}, {"0.1.0", "", true}, {"0.1.0", "x", false},
	} {
		if got := VersionAtLeast(c.v, c.min); got != c.want {
			t.Errorf("VersionAtLeast(%q, %q) = %v", c.v, c.min, got)
		}
	}
}

func TestValidStatus(t *testing.T) {
	for code, want := range map[int]bool{99: false, 100: true, 200: true, 599: true, 600: false, 700: false, 0: false} {
		if ValidStatus(code) != want {
			t.Errorf("ValidStatus(%d) != %v", code, want)
		}
	}
}

func TestIsIdentityHeader(t *testing.T) {
	for h, want := range map[string]bool{"Cookie": true, "Authorization": true, "X-Kvarter-User": true, "X-User-Id": true,
		"X-Principal-Roles": true, "Forwarded-User": true, "X-Forwarded-User": true, "Remote-User": true, "Connection": true,
		"Accept": false, "Content-Type": false, "User-Agent": false, "X-Forwarded-For": false} {
		if got := isIdentityHeader(h); got != want {
			t.Errorf("isIdentityHeader(%s) = %v", h, got)
		}
	}
}

func TestRouteTable_Match(t *testing.T) {
	rt, err := compileRoutes("p", []sdk.Route{
		{Method: "GET", Path: "/api/v1/p/items/{id}", Permission: "public"},
		{Method: "GET", Path: "/api/v1/p/items/new", Permission: "authenticated"},
		{Method: "POST", Path: "/api/v1/p/nbh/{nbh}/items", Permission: "p.item.add", Domain: "nbh:{nbh}"},
		{Method: "POST", Path: "/api/v1/p/orgs/{org}/items/{id}", Permission: "p.item.edit", Domain: "org:{org}"},
		{Method: "POST", Path: "/api/v1/p/run", Permission: "p.run", Domain: "city"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path, perm, domain string
		ok                         bool
	}{
		{"GET", "/api/v1/p/items/42", "public", "", true},
		{"GET", "/api/v1/p/items/new", "authenticated", "", true},
		{"POST", "/api/v1/p/nbh/n1/items", "p.item.add", "nbh:n1", true},
		{"GET", "/api/v1/p/nbh/n1/items", "", "", false},
		{"GET", "/api/v1/p/items", "", "", false},
		{"GET", "/api/v1/p/items/42/x", "", "", false},
		{"GET", "/api/v1/p/items//", "", "", false},
		{"POST", "/api/v1/p/orgs/o7/items/42", "p.item.edit", "org:o7", true},
		{"POST", "/api/v1/p/run", "p.run", "city", true},
		{"GET", "/api/v1/p/items/42" + strings.Repeat("/x", maxSegments), "", "", false},
	} {
		r, domain, ok := rt.match(c.method, c.path)
		if ok != c.ok || ok && (r.Permission != c.perm || domain != c.domain) {
			t.Errorf("%s %s: ok=%v route=%+v", c.method, c.path, ok, r)
		}
	}
	t.Run("ErrBadManifest", func(t *testing.T) {
		for _, r := range []sdk.Route{
			{Method: "GET", Path: "/api/v1/other/x", Permission: "public"},
			{Method: "HEAD", Path: "/api/v1/p/x", Permission: "public"},
			{Method: "GET", Path: "/api/v1/p/x", Permission: ""},
			{Method: "GET", Path: "/api/v1/p/x", Permission: "p.a.b", Domain: "nbh:{missing}"},
			{Method: "GET", Path: "/api/v1/p/x/{id}", Permission: "p.a.b", Domain: "nbh:id"},
			{Method: "GET", Path: "/api/v1/p" + strings.Repeat("/x", maxSegments), Permission: "public"},
		} {
			if _, err := compileRoutes("p", []sdk.Route{r}); err == nil {
				t.Errorf("route %+v accepted", r)
			}
		}
	})
}

func TestEncodedPrincipals(t *testing.T) {
	var c encodedPrincipals
	alice := &core.Principal{UserID: "u-a", Roles: map[string][]string{"nbh:n-1": {"resident"}}}
	first, err := c.get(alice)
	if err != nil || len(first) == 0 {
		t.Fatalf("get = %q, %v", first, err)
	}
	again, _ := c.get(alice)
	if &again[0] != &first[0] {
		t.Error("the same principal was encoded twice")
	}
	// A principal with the same content is another cache entry: the identity
	// service makes a new one whenever something about the caller may have changed.
	twin := &core.Principal{UserID: "u-a", Roles: map[string][]string{"nbh:n-1": {"resident", "coordinator"}}}
	if b, _ := c.get(twin); string(b) == string(first) {
		t.Error("a changed principal kept the old encoding")
	}
	if b, err := c.get(&core.Principal{}); b != nil || err != nil {
		t.Errorf("anonymous = %q, %v", b, err)
	}
	// Bounded: a principal unused while two generations of others came is dropped
	// (twogen's tests hold the bound itself).
	for range 2*twogen.DefaultSize + 1 {
		if _, err := c.get(&core.Principal{UserID: "u-x"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := c.m.Get(alice); ok {
		t.Error("a principal unused for two generations is still held")
	}
}
