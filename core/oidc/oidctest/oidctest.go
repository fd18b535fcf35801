// Package oidctest starts a real OpenID Connect provider in-process on loopback for
// tests: zitadel/oidc's example OP (its login form, its in-memory storage), with
// clients registered after start — a relying party's redirect URL is known only once
// its server listens —, signing keys it can rotate, and a hook that swaps the ID token the token endpoint answers
// with, to attack a relying party with another provider's token.
package oidctest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/oauth2"
	"golang.org/x/text/language"
)

// User is a person the provider knows; Password is what its login form takes.
type User struct {
	ID, Username, Password string
	FirstName, LastName    string
	Email                  string
	EmailVerified          bool
}

// OP is a running provider.
type OP struct {
	// Issuer is its issuer URL (http://127.0.0.1:port), also its address.
	Issuer string
	srv    *httptest.Server
	store  *clientStore
	// idToken, when set, replaces the id_token of every token response.
	idToken atomic.Pointer[string]
	// busy is the time spent answering requests, in nanoseconds.
	busy atomic.Int64
}

// clientStore is the example storage with clients held under its own lock, so that
// tests register them while the provider serves.
type clientStore struct {
	*storage.Storage
	mu      sync.RWMutex
	clients map[string]op.Client
	secrets map[string]string
	// claims are what the provider adds to the ID tokens of a user (by id): a
	// postal code, a birth date, as a city's provider says where someone lives.
	claims map[string]map[string]any
	key    rsaKey
	// rotations counts RotateKey's new keys, for their ids.
	rotations atomic.Int64
}

// SetUserinfoFromRequest is the example's, then the user's extra claims.
func (s *clientStore) SetUserinfoFromRequest(ctx context.Context, userinfo *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, userinfo, req, scopes); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for k, v := range s.claims[req.GetSubject()] {
		userinfo.AppendClaims(k, v)
	}
	return nil
}

// SetClaims makes the provider put claims in the ID tokens it issues to the user
// userID from now on (nil: none).
func (o *OP) SetClaims(userID string, claims map[string]any) {
	o.store.mu.Lock()
	defer o.store.mu.Unlock()
	o.store.claims[userID] = claims
}

// rsaKey is a signing key of the provider, which RotateKey replaces.
type rsaKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k rsaKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k rsaKey) Algorithm() jose.SignatureAlgorithm          { return jose.RS256 }
func (k rsaKey) Use() string                                 { return "sig" }
func (k rsaKey) ID() string                                  { return k.id }

// signingKey and publicKey are the two faces op asks for: the private key to sign
// with and the public one its keys endpoint publishes.
type signingKey struct{ rsaKey }

func (k signingKey) Key() any { return k.key }

type publicKey struct{ rsaKey }

func (k publicKey) Key() any { return &k.key.PublicKey }

func (s *clientStore) SigningKey(context.Context) (op.SigningKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return signingKey{s.key}, nil
}

func (s *clientStore) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet publishes the current key only: after a rotation a relying party that kept
// the old key set must fetch the new one to verify a token.
func (s *clientStore) KeySet(context.Context) ([]op.Key, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return []op.Key{publicKey{s.key}}, nil
}

func newKey(id string) (rsaKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	return rsaKey{id: id, key: k}, err
}

// RotateKey replaces the provider's signing key with a new one, under a new key id.
func (o *OP) RotateKey(tb testing.TB) {
	tb.Helper()
	o.store.mu.Lock()
	defer o.store.mu.Unlock()
	k, err := newKey(fmt.Sprintf("key-%d", o.store.rotations.Add(1)))
	if err != nil {
		tb.Fatal(err)
	}
	o.store.key = k
}

// webClient is the example's web client that also accepts being sent back, after
// signing out, to the home page of a site it may send people back to.
type webClient struct {
	*storage.Client
	postLogout []string
}

func (c webClient) PostLogoutRedirectURIs() []string { return c.postLogout }

func (s *clientStore) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c, ok := s.clients[id]; ok {
		return c, nil
	}
	return nil, errors.New("client not found")
}

func (s *clientStore) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if want, ok := s.secrets[id]; !ok || want != secret {
		return errors.New("client or secret wrong")
	}
	return nil
}

// Start starts a provider knowing users, stopped when the test ends.
func Start(tb testing.TB, users ...User) *OP {
	tb.Helper()
	file := filepath.Join(tb.TempDir(), "users.json")
	byID := map[string]*storage.User{}
	for _, u := range users {
		byID[u.ID] = &storage.User{ID: u.ID, Username: u.Username, Password: u.Password, FirstName: u.FirstName, LastName: u.LastName,
			Email: u.Email, EmailVerified: u.EmailVerified, PreferredLanguage: language.English}
	}
	b, err := json.Marshal(byID)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	us, err := storage.StoreFromFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	key, err := newKey("key-0")
	if err != nil {
		tb.Fatal(err)
	}
	o := &OP{store: &clientStore{Storage: storage.NewStorageWithClients(us, map[string]*storage.Client{}),
		clients: map[string]op.Client{}, secrets: map[string]string{}, claims: map[string]map[string]any{}, key: key}}
	var handler http.Handler
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		defer func() { o.busy.Add(int64(time.Since(start))) }()
		if r.URL.Path == "/oauth/token" {
			if tok := o.idToken.Load(); tok != nil {
				o.swapIDToken(w, r, handler, *tok)
				return
			}
		}
		handler.ServeHTTP(w, r)
	}))
	o.Issuer = o.srv.URL
	// The example sets the process's default logger to the one given (its request
	// log would fill the tests' output); the core's code logs to loggers of its own.
	handler = exampleop.SetupServer(o.Issuer, o.store, slog.New(slog.DiscardHandler), false)
	tb.Cleanup(o.srv.Close)
	return o
}

// AddClient registers a confidential web client that may be sent back to
// redirectURIs, and after signing out to the home page ("/") of their sites.
func (o *OP) AddClient(id, secret string, redirectURIs ...string) {
	var home []string
	for _, r := range redirectURIs {
		if u, err := url.Parse(r); err == nil {
			home = append(home, u.Scheme+"://"+u.Host+"/")
		}
	}
	o.store.mu.Lock()
	defer o.store.mu.Unlock()
	o.store.clients[id] = webClient{Client: storage.WebClient(id, secret, redirectURIs...), postLogout: home}
	o.store.secrets[id] = secret
}

// ReplaceIDToken makes the token endpoint answer with tok as the id_token ("" stops).
func (o *OP) ReplaceIDToken(tok string) {
	if tok == "" {
		o.idToken.Store(nil)
		return
	}
	o.idToken.Store(&tok)
}

func (o *OP) swapIDToken(w http.ResponseWriter, r *http.Request, h http.Handler, tok string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	var body map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	body["id_token"] = tok
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

var idField = regexp.MustCompile(`name="id" value="([^"]+)"`)

// Login walks the provider's login from authURL (its authorization endpoint, with
// the relying party's parameters) as a browser would, with c (whose cookie jar, if
// any, keeps the provider's cookies), and returns where the provider sends the person
// back: the relying party's callback URL with the code and state. It follows no
// redirect away from the provider.
func (o *OP) Login(tb testing.TB, c *http.Client, authURL, username, password string) *url.URL {
	tb.Helper()
	opHost := o.srv.Listener.Addr().String()
	walker := *c
	var back *url.URL
	walker.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != opHost {
			back = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := walker.Get(authURL)
	if err != nil {
		tb.Fatalf("provider authorize: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if back != nil {
		return back // signed in at the provider already
	}
	m := idField.FindSubmatch(page)
	if m == nil {
		tb.Fatalf("provider login page: no auth request id in %d %s", resp.StatusCode, truncate(page))
	}
	form := url.Values{"id": {string(m[1])}, "username": {username}, "password": {password}}
	resp, err = walker.Post(o.Issuer+"/login/username", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatalf("provider login: %v", err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if back == nil {
		tb.Fatalf("provider login: not sent back (%d %s)", resp.StatusCode, truncate(page))
	}
	return back
}

func truncate(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 300 {
		b = b[:300]
	}
	return string(b)
}

// Busy is the time the provider has spent answering requests so far: a benchmark of
// a relying party subtracts it to measure its own time.
func (o *OP) Busy() time.Duration { return time.Duration(o.busy.Load()) }

// String names the provider in failures.
func (o *OP) String() string { return fmt.Sprintf("OP %s", o.Issuer) }

// IssueIDToken signs u in at the provider as client id (registered here with a
// redirect URL nobody serves) and returns the ID token it issues: a valid token of
// this provider, to hand to another relying party in an attack.
func (o *OP) IssueIDToken(tb testing.TB, id, secret string, u User) string {
	tb.Helper()
	const redirect = "http://127.0.0.1:1/callback"
	o.AddClient(id, secret, redirect)
	cfg := oauth2.Config{ClientID: id, ClientSecret: secret, RedirectURL: redirect, Scopes: []string{"openid", "email"},
		Endpoint: oauth2.Endpoint{AuthURL: o.Issuer + "/auth", TokenURL: o.Issuer + "/oauth/token"}}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	back := o.Login(tb, c, cfg.AuthCodeURL("state", oauth2.SetAuthURLParam("nonce", "nonce")), u.Username, u.Password)
	tok, err := cfg.Exchange(context.Background(), back.Query().Get("code"))
	if err != nil {
		tb.Fatalf("exchange at %s: %v", o.Issuer, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		tb.Fatalf("%s issued no ID token", o.Issuer)
	}
	return raw
}
