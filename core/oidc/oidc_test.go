package oidc_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/oidc"
	"github.com/kvarter/kvarter/core/oidc/oidctest"
)

const (
	clientID    = "kvarter"
	secret      = "client-secret"
	redirectURL = "http://127.0.0.1:1/sign-in/city/callback" // never fetched: Login stops there
)

var person = oidctest.User{ID: "sub-1", Username: "aino", Password: "verysecure", FirstName: "Aino", LastName: "Virtanen",
	Email: "aino@example.org", EmailVerified: true}

// clock is a clock the test moves; the relying party checks ID tokens against it.
type clock struct {
	mu sync.Mutex
	d  time.Duration
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.d) }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.d += d
	c.mu.Unlock()
}

func key() []byte { return []byte("0123456789abcdef0123456789abcdef") }

func newRP(t *testing.T, issuer string, c *clock) *oidc.RelyingParty {
	t.Helper()
	rp, err := oidc.New([]oidc.Provider{{ID: "city", Issuer: issuer, ClientID: clientID, ClientSecret: secret,
		Scopes: []string{"openid", "email", "profile"}, Labels: map[string]string{"en": "City ID"}}}, key(), oidc.Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return rp
}

func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// flow starts a sign-in, lets rewrite change the authorization URL, logs in at the
// provider and returns the sealed state and the callback's query.
func flow(t *testing.T, rp *oidc.RelyingParty, op *oidctest.OP, rewrite func(string) string) (string, url.Values) {
	t.Helper()
	authURL, sealed, err := rp.Start(context.Background(), "city", redirectURL, oidc.PurposeSignIn, "", "/back")
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	if !strings.Contains(authURL, "code_challenge_method=S256") || !strings.Contains(authURL, "nonce=") {
		t.Fatalf("authorization URL lacks PKCE S256 or a nonce: %s", authURL)
	}
	if rewrite != nil {
		authURL = rewrite(authURL)
	}
	back := op.Login(t, browser(t), authURL, person.Username, person.Password)
	return sealed, back.Query()
}

func wantKind(t *testing.T, err error, kind, reason string) {
	t.Helper()
	var e *oidc.Error
	if !errors.As(err, &e) || e.Kind != kind || !strings.Contains(e.Error(), reason) {
		t.Fatalf("err = %v, want kind %s (%s)", err, kind, reason)
	}
}

func TestRelyingParty_Finish(t *testing.T) {
	op := oidctest.Start(t, person)
	op.AddClient(clientID, secret, redirectURL)
	c := &clock{}
	rp := newRP(t, op.Issuer, c)
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		sealed, q := flow(t, rp, op, nil)
		res, err := rp.Finish(ctx, "city", redirectURL, q, sealed)
		if err != nil {
			t.Fatal(err)
		}
		id := res.Identity
		if id.Provider != "city" || id.Subject != person.ID || id.Email != person.Email || !id.EmailVerified || id.Name != "Aino Virtanen" {
			t.Fatalf("identity = %+v", id)
		}
		if res.Claims["sub"] != person.ID || res.Claims["email"] != person.Email || res.IDToken == "" || res.Back != "/back" || res.Purpose != oidc.PurposeSignIn {
			t.Fatalf("result = %+v", res)
		}
	})
	t.Run("KeyRotation", func(t *testing.T) {
		// The provider signs with a new key and publishes only that one: the relying
		// party, which holds the old key set, fetches the new one and verifies.
		op.RotateKey(t)
		sealed, q := flow(t, rp, op, nil)
		res, err := rp.Finish(ctx, "city", redirectURL, q, sealed)
		if err != nil {
			t.Fatalf("after a key rotation: %v", err)
		}
		header, _ := base64.RawURLEncoding.DecodeString(strings.Split(res.IDToken, ".")[0])
		if !strings.Contains(string(header), `"kid":"key-1"`) {
			t.Fatalf("the token was not signed with the new key: %s", header)
		}
	})
	t.Run("ErrTamperedState", func(t *testing.T) {
		sealed, q := flow(t, rp, op, nil)
		q.Set("state", q.Get("state")+"x")
		_, err := rp.Finish(ctx, "city", redirectURL, q, sealed)
		wantKind(t, err, oidc.KindState, "state does not match")
	})
	t.Run("ErrTamperedCookie", func(t *testing.T) {
		sealed, q := flow(t, rp, op, nil)
		b := []byte(sealed)
		b[len(b)/2] ^= 1
		_, err := rp.Finish(ctx, "city", redirectURL, q, string(b))
		wantKind(t, err, oidc.KindState, "altered")
	})
	t.Run("ErrOtherProvidersState", func(t *testing.T) {
		sealed, q := flow(t, rp, op, nil)
		_, err := rp.Finish(ctx, "other", redirectURL, q, sealed)
		wantKind(t, err, oidc.KindState, "state does not match")
	})
	t.Run("ErrReplayedCode", func(t *testing.T) {
		sealed, q := flow(t, rp, op, nil)
		if _, err := rp.Finish(ctx, "city", redirectURL, q, sealed); err != nil {
			t.Fatal(err)
		}
		_, err := rp.Finish(ctx, "city", redirectURL, q, sealed)
		wantKind(t, err, oidc.KindToken, "code exchange refused")
		if strings.Contains(err.Error(), q.Get("code")) {
			t.Fatalf("the refusal, which is logged, quotes the code: %v", err)
		}
	})
	t.Run("ErrWrongNonce", func(t *testing.T) {
		sealed, q := flow(t, rp, op, func(u string) string {
			parsed, _ := url.Parse(u)
			v := parsed.Query()
			v.Set("nonce", "an-attackers-nonce")
			parsed.RawQuery = v.Encode()
			return parsed.String()
		})
		_, err := rp.Finish(ctx, "city", redirectURL, q, sealed)
		wantKind(t, err, oidc.KindToken, "nonce does not match")
	})
	t.Run("ErrExpiredState", func(t *testing.T) {
		sealed, q := flow(t, rp, op, nil)
		c.advance(oidc.StateTTL + time.Second)
		defer c.advance(-oidc.StateTTL - time.Second)
		_, err := rp.Finish(ctx, "city", redirectURL, q, sealed)
		wantKind(t, err, oidc.KindState, "expired")
	})
	t.Run("ErrExpiredIDToken", func(t *testing.T) {
		// The relying party's clock is two hours ahead from the start, so the state
		// is fresh and the provider's one-hour ID token has expired.
		c.advance(2 * time.Hour)
		defer c.advance(-2 * time.Hour)
		sealed, q := flow(t, rp, op, nil)
		_, err := rp.Finish(ctx, "city", redirectURL, q, sealed)
		wantKind(t, err, oidc.KindToken, "expired")
	})
	t.Run("ErrWrongIssuer", func(t *testing.T) {
		// A second provider that knows the same client issues a valid ID token for
		// the same person; the first provider's token endpoint answers with it.
		other := oidctest.Start(t, person)
		other.AddClient(clientID, secret, redirectURL)
		otherRP := newRP(t, other.Issuer, c)
		sealed, q := flow(t, otherRP, other, nil)
		res, err := otherRP.Finish(ctx, "city", redirectURL, q, sealed)
		if err != nil {
			t.Fatal(err)
		}
		op.ReplaceIDToken(res.IDToken)
		defer op.ReplaceIDToken("")
		sealed, q = flow(t, rp, op, nil)
		_, err = rp.Finish(ctx, "city", redirectURL, q, sealed)
		if err != nil && strings.Contains(err.Error(), res.IDToken[:40]) {
			t.Fatalf("the refusal, which is logged, quotes the token: %v", err)
		}
		// go-oidc checks the signature against the first provider's keys before the
		// issuer, so that is where the other provider's token fails.
		wantKind(t, err, oidc.KindToken, "id token")
		if !strings.Contains(err.Error(), "signature") && !strings.Contains(err.Error(), "another provider") {
			t.Fatalf("err = %v, want a refusal for the signature or the issuer", err)
		}
	})
	t.Run("ErrDenied", func(t *testing.T) {
		// The provider echoes the state of the authorization URL with its refusal.
		authURL, sealed, err := rp.Start(ctx, "city", redirectURL, oidc.PurposeSignIn, "", "")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(authURL)
		_, err = rp.Finish(ctx, "city", redirectURL, url.Values{"state": {u.Query().Get("state")}, "error": {"access_denied"}}, sealed)
		wantKind(t, err, oidc.KindDenied, "access_denied")
	})
}

func TestRelyingParty_Discovery(t *testing.T) {
	t.Run("ErrUnavailableThenRetried", func(t *testing.T) {
		op := oidctest.Start(t, person)
		op.AddClient(clientID, secret, redirectURL)
		// The configured issuer does not answer yet: the button says so, and a later
		// press discovers it once it does.
		rp := newRP(t, "http://127.0.0.1:1", &clock{})
		_, _, err := rp.Start(context.Background(), "city", redirectURL, oidc.PurposeSignIn, "", "")
		wantKind(t, err, oidc.KindUnavailable, "discover")
		if _, ok := rp.EndSessionURL(context.Background(), "city", "t", "http://x/"); ok {
			t.Fatal("end session URL without discovery")
		}
		ok := newRP(t, op.Issuer, &clock{})
		if _, _, err := ok.Start(context.Background(), "city", redirectURL, oidc.PurposeSignIn, "", ""); err != nil {
			t.Fatal(err)
		}
		end, found := ok.EndSessionURL(context.Background(), "city", "the-id-token", "http://127.0.0.1:1/")
		if !found || !strings.HasPrefix(end, op.Issuer) || !strings.Contains(end, "id_token_hint=the-id-token") || !strings.Contains(end, "post_logout_redirect_uri=") {
			t.Fatalf("end session URL = %q, %v", end, found)
		}
	})
	t.Run("ErrUnknownProvider", func(t *testing.T) {
		rp := newRP(t, "http://127.0.0.1:1", &clock{})
		_, _, err := rp.Start(context.Background(), "nobody", redirectURL, oidc.PurposeSignIn, "", "")
		wantKind(t, err, oidc.KindUnknownProvider, "nobody")
	})
}

func TestRelyingParty_Cookies(t *testing.T) {
	rp := newRP(t, "http://127.0.0.1:1", &clock{})
	sealed, err := rp.SealLogout(oidc.Logout{Provider: "city", IDToken: "tok"}, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := rp.OpenLogout(sealed); !ok || l.IDToken != "tok" {
		t.Fatalf("logout = %+v, %v", l, ok)
	}
	// A logout cookie is not a pending link, nor the other way round.
	if _, ok := rp.OpenPending(sealed); ok {
		t.Fatal("a logout cookie opened as a pending link")
	}
	big := map[string]any{"blob": strings.Repeat("x", 5000)}
	p, err := rp.SealPending(&oidc.Result{Claims: big})
	if err != nil {
		t.Fatal(err)
	}
	if len(p) > 3500 {
		t.Fatalf("pending cookie is %d bytes", len(p))
	}
	if got, ok := rp.OpenPending(p); !ok || got.Claims != nil {
		t.Fatalf("pending = %+v, %v", got, ok)
	}
}
