package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
)

// signedIn opens an account, signs it in and returns its token and a context acting
// as it.
func signedIn(t *testing.T, n *node.Node, email string) (string, context.Context) {
	t.Helper()
	ctx := context.Background()
	pw := "a long enough passphrase " + email
	if _, err := n.Identity.Register(ctx, core.Registration{Email: email, Password: pw, DisplayName: "Aino", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	return login(t, n, email, pw)
}

func login(t *testing.T, n *node.Node, email, pw string) (string, context.Context) {
	t.Helper()
	res, err := n.Identity.Login(context.Background(), core.LoginAttempt{Email: email, Password: pw, ClientIP: "127.0.0.1"})
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	p, err := n.Identity.Authenticate(context.Background(), res.Token)
	if err != nil {
		t.Fatal(err)
	}
	return res.Token, core.WithPrincipal(context.Background(), p)
}

// cachingOptions keep a resolved token for an hour, so a test sees whether a change
// drops what the cache holds instead of waiting it out.
func cachingOptions() node.Options {
	o := coretest.Options()
	o.PrincipalCacheTTL = time.Hour
	return o
}

func TestIdentityService_UpdateProfile(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, cachingOptions())
		tok, ctx := signedIn(t, n, "aino@example.org")
		signedIn(t, n, "elif@example.org")

		t.Run("OK", func(t *testing.T) {
			name, email, lang := "  Aino Å.  ", "Aino.A@example.org", "fi"
			u, err := n.Identity.UpdateProfile(ctx, core.ProfileUpdate{DisplayName: &name, Email: &email, Language: &lang, CurrentPassword: "a long enough passphrase aino@example.org"})
			if err != nil {
				t.Fatal(err)
			}
			if u.DisplayName != "Aino Å." || u.Email != email || u.Language != "fi" {
				t.Errorf("updated to %+v", u)
			}
			// The cached principal is dropped: the next request sees the change.
			p, err := n.Identity.Authenticate(context.Background(), tok)
			if err != nil || p.DisplayName != "Aino Å." || p.Locale != "fi" {
				t.Errorf("principal after update = %+v, %v", p, err)
			}
			// The new address signs in, in any case.
			login(t, n, "aino.a@example.org", "a long enough passphrase aino@example.org")
			var n1 int
			_ = coretest.SQL(n).Get(&n1, coretest.SQL(n).Rebind(`SELECT COUNT(*) FROM audit_log WHERE action = 'user.updated'`))
			if n1 != 1 {
				t.Errorf("%d audit entries, want 1", n1)
			}
		})
		t.Run("OnlyWhatIsGiven", func(t *testing.T) {
			lang := "sv"
			u, err := n.Identity.UpdateProfile(ctx, core.ProfileUpdate{Language: &lang})
			if err != nil || u.DisplayName != "Aino Å." || u.Language != "sv" {
				t.Errorf("= %+v, %v", u, err)
			}
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			empty, bad, xx := " ", "not-an-email", "xx"
			for _, u := range []core.ProfileUpdate{{DisplayName: &empty}, {Email: &bad}, {Language: &xx}} {
				if _, err := n.Identity.UpdateProfile(ctx, u); core.ErrorCode(err) != core.EINVALID {
					t.Errorf("%+v: %v, want invalid", u, err)
				}
			}
		})
		t.Run("ErrEmailWithoutPassword", func(t *testing.T) {
			email := "mallory@example.org"
			for pw, rule := range map[string]string{"": core.RuleRequired, "not the password": core.RuleWrongPassword} {
				_, err := n.Identity.UpdateProfile(ctx, core.ProfileUpdate{Email: &email, CurrentPassword: pw})
				var e *core.Error
				if !asError(err, &e) || e.Code != core.EINVALID || e.Fields["rule"] != rule || e.Fields["current_password"] == "" {
					t.Errorf("password %q: %v, want %s", pw, err, rule)
				}
			}
			same := "Aino.A@example.org" // unchanged: no password needed
			if _, err := n.Identity.UpdateProfile(ctx, core.ProfileUpdate{Email: &same}); err != nil {
				t.Errorf("keeping the address: %v", err)
			}
			if _, err := n.Identity.Login(context.Background(), core.LoginAttempt{Email: email, Password: "a long enough passphrase aino@example.org", ClientIP: "127.0.0.1"}); err == nil {
				t.Error("the address moved without the password")
			}
		})
		t.Run("ErrTaken", func(t *testing.T) {
			other := "ELIF@example.org"
			if _, err := n.Identity.UpdateProfile(ctx, core.ProfileUpdate{Email: &other, CurrentPassword: "a long enough passphrase aino@example.org"}); core.ErrorCode(err) != core.ECONFLICT {
				t.Errorf("taking another account's address: %v, want conflict", err)
			}
		})
		t.Run("ErrUnauthenticated", func(t *testing.T) {
			name := "Mallory"
			if _, err := n.Identity.UpdateProfile(context.Background(), core.ProfileUpdate{DisplayName: &name}); core.ErrorCode(err) != core.EUNAUTHENTICATED {
				t.Errorf("anonymous update: %v", err)
			}
		})
	})
}

func TestIdentityService_ChangePassword(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, cachingOptions())
		const email, old, fresh = "aino@example.org", "a long enough passphrase aino@example.org", "another long passphrase"
		here, ctx := signedIn(t, n, email)
		there, _ := login(t, n, email, old)
		tok, err := n.Identity.CreateToken(ctx, "script", "")
		if err != nil {
			t.Fatal(err)
		}

		t.Run("ErrWrongCurrent", func(t *testing.T) {
			err := n.Identity.ChangePassword(ctx, core.PasswordChange{Current: "not it at all", New: fresh})
			var e *core.Error
			if core.ErrorCode(err) != core.EINVALID || !asError(err, &e) || e.Fields["rule"] != core.RuleWrongPassword || e.Fields["current_password"] == "" {
				t.Fatalf("wrong current password: %v", err)
			}
		})
		t.Run("ErrWeak", func(t *testing.T) {
			for _, pw := range []string{"", "short", "aino@example.org1"} {
				if err := n.Identity.ChangePassword(ctx, core.PasswordChange{Current: old, New: pw}); core.ErrorCode(err) != core.EINVALID {
					t.Errorf("new password %q: %v", pw, err)
				}
			}
		})
		t.Run("ErrUnauthenticated", func(t *testing.T) {
			if err := n.Identity.ChangePassword(context.Background(), core.PasswordChange{Current: old, New: fresh}); core.ErrorCode(err) != core.EUNAUTHENTICATED {
				t.Errorf("anonymous change: %v", err)
			}
		})
		login(t, n, email, old) // nothing refused above changed it
		t.Run("OK", func(t *testing.T) {
			if err := n.Identity.ChangePassword(ctx, core.PasswordChange{Current: old, New: fresh}); err != nil {
				t.Fatal(err)
			}
			if _, err := n.Identity.Authenticate(context.Background(), here); err != nil {
				t.Errorf("the session that changed the password ended: %v", err)
			}
			// Ended at once, though the cache would keep them for an hour.
			for name, tk := range map[string]string{"other session": there, "API token": tok.Token} {
				if _, err := n.Identity.Authenticate(context.Background(), tk); core.ErrorCode(err) != core.EUNAUTHENTICATED {
					t.Errorf("the %s still works: %v", name, err)
				}
			}
			if _, err := n.Identity.Login(context.Background(), core.LoginAttempt{Email: email, Password: old, ClientIP: "127.0.0.1"}); err == nil {
				t.Error("the old password still signs in")
			}
			login(t, n, email, fresh)
		})
	})
}

// TestIdentityService_ReauthThrottle attacks the current-password check: guesses
// through a session, and through API tokens it makes, share one allowance; past it
// even the right password is refused until the lockout ends.
func TestIdentityService_ReauthThrottle(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options()) // 5 tries a window
		const right = "a long enough passphrase aino@example.org"
		_, ctx := signedIn(t, n, "aino@example.org")
		tok, err := n.Identity.CreateToken(ctx, "guesser", "")
		if err != nil {
			t.Fatal(err)
		}
		p, err := n.Identity.Authenticate(context.Background(), tok.Token)
		if err != nil {
			t.Fatal(err)
		}
		viaToken := core.WithPrincipal(context.Background(), p)
		email := "mallory@example.org"
		for i := range 5 {
			c := ctx
			if i%2 == 1 {
				c = viaToken
			}
			if err := n.Identity.ChangePassword(c, core.PasswordChange{Current: "guess " + string(rune('a'+i)), New: "mallory's passphrase"}); core.ErrorCode(err) != core.EINVALID {
				t.Fatalf("guess %d: %v", i, err)
			}
		}
		if err := n.Identity.ChangePassword(viaToken, core.PasswordChange{Current: right, New: "mallory's passphrase"}); core.ErrorCode(err) != core.ERATELIMITED {
			t.Errorf("the sixth try, right: %v, want rate_limited", err)
		}
		if _, err := n.Identity.UpdateProfile(ctx, core.ProfileUpdate{Email: &email, CurrentPassword: right}); core.ErrorCode(err) != core.ERATELIMITED {
			t.Errorf("an email change past the limit: %v, want rate_limited", err)
		}
		name := "Aino" // what needs no password is not held back
		if _, err := n.Identity.UpdateProfile(ctx, core.ProfileUpdate{DisplayName: &name}); err != nil {
			t.Errorf("a name change: %v", err)
		}
		login(t, n, "aino@example.org", right) // the password did not change
	})
}

func asError(err error, e **core.Error) bool {
	ce, ok := err.(*core.Error)
	*e = ce
	return ok
}

func TestNeighbourhoodService_MyMemberships(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@example.org")
		r := admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]string{"name": "Kallio", "slug": "kallio"})
		hood, _ := r.JSON()["id"].(string)
		_, ctx := signedIn(t, n, "aino@example.org")
		_, other := signedIn(t, n, "elif@example.org")
		me := core.PrincipalFrom(ctx).UserID

		if _, err := n.Neighbourhoods.RequestMembership(ctx, hood, "Helsinginkatu"); err != nil {
			t.Fatal(err)
		}
		admin.Must(200, "POST", "/api/v1/neighbourhoods/"+hood+"/memberships/"+me+"/reject", map[string]string{"reason": "Not in Kallio"})
		if _, err := n.Neighbourhoods.RequestMembership(ctx, hood, ""); err != nil {
			t.Fatal(err)
		}
		ms, err := n.Neighbourhoods.MyMemberships(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 2 || ms[0].State != core.MembershipRequested || ms[1].State != core.MembershipRejected || ms[1].Reason != "Not in Kallio" {
			t.Fatalf("my memberships = %+v, want the new request first, then the rejected one with its reason", ms)
		}
		// Another person sees only their own (none); an anonymous one is refused.
		if theirs, err := n.Neighbourhoods.MyMemberships(other); err != nil || len(theirs) != 0 {
			t.Errorf("another person's = %+v, %v", theirs, err)
		}
		if _, err := n.Neighbourhoods.MyMemberships(context.Background()); core.ErrorCode(err) != core.EUNAUTHENTICATED {
			t.Errorf("anonymous: %v", err)
		}
	})
}
