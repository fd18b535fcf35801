package pluginhost

import (
	"testing"
	"time"

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
	} {
		r, params, ok := rt.match(c.method, c.path)
		if ok != c.ok || ok && (r.Permission != c.perm || r.domain(params) != c.domain) {
			t.Errorf("%s %s: ok=%v route=%+v", c.method, c.path, ok, r)
		}
	}
	t.Run("ErrBadManifest", func(t *testing.T) {
		for _, r := range []sdk.Route{
			{Method: "GET", Path: "/api/v1/other/x", Permission: "public"},
			{Method: "HEAD", Path: "/api/v1/p/x", Permission: "public"},
			{Method: "GET", Path: "/api/v1/p/x", Permission: ""},
			{Method: "GET", Path: "/api/v1/p/x", Permission: "p.a.b", Domain: "nbh:{missing}"},
		} {
			if _, err := compileRoutes("p", []sdk.Route{r}); err == nil {
				t.Errorf("route %+v accepted", r)
			}
		}
	})
}
