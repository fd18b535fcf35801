// Package oidc is the core's OpenID Connect relying party (DESIGN.md §12, issue 22):
// it signs people in with a city's identity providers by the authorization code flow
// with PKCE (S256), a nonce and a state, and verifies the ID token (signature through
// the provider's rotating key set, issuer, audience, expiry, nonce) with
// coreos/go-oidc. It speaks HTTP to the providers only; the pages (core/web) decide
// what a verified identity means for an account.
//
// The state, nonce and PKCE verifier of a sign-in in progress live in the browser, in
// a cookie sealed (AES-256-GCM) with a key derived from the node's key file, so any
// node of a city can finish a sign-in another began and none keeps state. The cookie
// lasts ten minutes and is cleared when the provider sends the person back, so a
// callback URL works once.
package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/kvarter/kvarter/core"
)

// Provider is one identity provider of the city (config oidc_providers).
type Provider struct {
	// ID names the provider in paths (/sign-in/{id}) and in user_identities.
	ID       string
	Issuer   string
	ClientID string
	// ClientSecret is read from a file or the environment at start; "" for a public
	// client, which PKCE alone protects.
	ClientSecret string
	// Scopes asked for; "openid" is always among them.
	Scopes []string
	// Labels are the button's text per language ("fi": "Suomi.fi").
	Labels map[string]string
}

// Label is the provider's button text in lang, else in fallback, else its id.
func (p Provider) Label(lang, fallback string) string {
	if l := p.Labels[lang]; l != "" {
		return l
	}
	if l := p.Labels[fallback]; l != "" {
		return l
	}
	return p.ID
}

// StateTTL is how long a person has at the provider before the sign-in must start
// again.
const StateTTL = 10 * time.Minute

// discoveryRetry is the least time between two discovery attempts of a provider that
// did not answer, so that a provider down does not get one request per button press.
const discoveryRetry = 2 * time.Second

// Purposes of a flow: signing in (or registering), or linking an identity to the
// account of the person signed in.
const (
	PurposeSignIn = "sign-in"
	PurposeLink   = "link"
)

// Options tune the relying party; the zero value is production's.
type Options struct {
	// HTTPClient speaks to the providers; nil is a client with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock ID tokens' expiry is checked against; nil is time.Now.
	Now func() time.Time
	// Logger records providers that cannot be reached; nil discards.
	Logger *slog.Logger
}

// RelyingParty signs people in with the configured providers.
type RelyingParty struct {
	providers []*provider
	byID      map[string]*provider
	box       *box
	client    *http.Client
	now       func() time.Time
	logger    *slog.Logger
}

// provider is a configured provider and what its discovery document said, fetched
// on first use and again after a failure.
type provider struct {
	cfg Provider

	mu        sync.Mutex
	found     *discovered
	triedAt   time.Time
	lastError error
}

type discovered struct {
	op         *gooidc.Provider
	userInfo   bool          // the provider has a userinfo endpoint
	oauth      oauth2.Config // without RedirectURL: each request sets its own
	verifier   *gooidc.IDTokenVerifier
	endSession string
}

// New makes a relying party for providers, sealing its cookies with key (32 bytes,
// from Keyring.Derive("oidc-state")). It fetches nothing yet: a provider's
// discovery document is read when someone first presses its button.
func New(providers []Provider, key []byte, opts Options) (*RelyingParty, error) {
	b, err := newBox(key)
	if err != nil {
		return nil, err
	}
	rp := &RelyingParty{byID: map[string]*provider{}, box: b, client: opts.HTTPClient, now: opts.Now, logger: opts.Logger}
	if rp.client == nil {
		rp.client = &http.Client{Timeout: 10 * time.Second}
	}
	if rp.now == nil {
		rp.now = time.Now
	}
	if rp.logger == nil {
		rp.logger = slog.New(slog.DiscardHandler)
	}
	for _, p := range providers {
		if p.ID == "" || p.Issuer == "" || p.ClientID == "" {
			return nil, fmt.Errorf("oidc: provider %q needs an id, an issuer and a client id", p.ID)
		}
		if _, dup := rp.byID[p.ID]; dup {
			return nil, fmt.Errorf("oidc: provider %q is listed twice", p.ID)
		}
		if !containsScope(p.Scopes, gooidc.ScopeOpenID) {
			p.Scopes = append([]string{gooidc.ScopeOpenID}, p.Scopes...)
		}
		pr := &provider{cfg: p}
		rp.providers = append(rp.providers, pr)
		rp.byID[p.ID] = pr
	}
	return rp, nil
}

func containsScope(scopes []string, s string) bool {
	for _, x := range scopes {
		if x == s {
			return true
		}
	}
	return false
}

// Providers are the configured providers, in the config's order.
func (rp *RelyingParty) Providers() []Provider {
	if rp == nil {
		return nil
	}
	out := make([]Provider, len(rp.providers))
	for i, p := range rp.providers {
		out[i] = p.cfg
	}
	return out
}

// Has reports whether id is a configured provider.
func (rp *RelyingParty) Has(id string) bool {
	if rp == nil {
		return false
	}
	_, ok := rp.byID[id]
	return ok
}

// providerContext is a context for talking to providers that outlives the request:
// the remote key set fetches keys with the context the verifier was made with.
func (rp *RelyingParty) providerContext(ctx context.Context) context.Context {
	return gooidc.ClientContext(ctx, rp.client)
}

// discover returns the provider's discovery, fetching it when it is not known yet.
func (rp *RelyingParty) discover(ctx context.Context, id string) (*provider, *discovered, error) {
	p, ok := rp.byID[id]
	if !ok {
		return nil, nil, &Error{Kind: KindUnknownProvider, Err: fmt.Errorf("no provider %q", id)}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.found != nil {
		return p, p.found, nil
	}
	now := time.Now()
	if p.lastError != nil && now.Sub(p.triedAt) < discoveryRetry {
		return nil, nil, &Error{Kind: KindUnavailable, Err: p.lastError}
	}
	p.triedAt = now
	// The key set keeps this context for later key fetches (rotation), so it must
	// not be the request's, which ends with the answer.
	found, err := rp.fetch(context.WithoutCancel(ctx), p.cfg)
	if err != nil {
		p.lastError = err
		rp.logger.WarnContext(ctx, "oidc: discovery failed", "provider", p.cfg.ID, "err", err)
		return nil, nil, &Error{Kind: KindUnavailable, Err: err}
	}
	p.found, p.lastError = found, nil
	return p, found, nil
}

func (rp *RelyingParty) fetch(ctx context.Context, cfg Provider) (*discovered, error) {
	ctx = rp.providerContext(ctx)
	fetchCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	op, err := gooidc.NewProvider(fetchCtx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", cfg.ID, err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
		UserInfo   string `json:"userinfo_endpoint"`
	}
	if err := op.Claims(&extra); err != nil {
		return nil, fmt.Errorf("discover %s: %w", cfg.ID, err)
	}
	return &discovered{
		op: op, userInfo: extra.UserInfo != "",
		oauth:      oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: op.Endpoint(), Scopes: cfg.Scopes},
		verifier:   op.VerifierContext(ctx, &gooidc.Config{ClientID: cfg.ClientID, Now: rp.now}),
		endSession: extra.EndSession,
	}, nil
}

// flowState is what the state cookie holds for a sign-in in progress.
type flowState struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Purpose  string `json:"u"`
	// UserID is the person signed in who asked to link; "" for a sign-in.
	UserID string `json:"i,omitempty"`
	// Back is the local path to lead to afterwards.
	Back string `json:"b,omitempty"`
}

// Start begins a flow with provider id: it returns the provider's authorization URL
// and the sealed state to keep in the cookie until the person comes back to
// redirectURL. userID is the person asking to link (PurposeLink), back the page to
// return to.
func (rp *RelyingParty) Start(ctx context.Context, id, redirectURL, purpose, userID, back string) (authURL, sealed string, err error) {
	_, d, err := rp.discover(ctx, id)
	if err != nil {
		return "", "", err
	}
	st := flowState{Provider: id, State: oauth2.GenerateVerifier(), Nonce: oauth2.GenerateVerifier(), Verifier: oauth2.GenerateVerifier(),
		Purpose: purpose, UserID: userID, Back: back}
	sealed, err = rp.box.seal(cookieState, st, rp.now().Add(StateTTL))
	if err != nil {
		return "", "", err
	}
	cfg := d.oauth
	cfg.RedirectURL = redirectURL
	return cfg.AuthCodeURL(st.State, gooidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)), sealed, nil
}

// Result is a finished flow: the verified identity, the ID token's claims as the
// provider sent them, completed by its userinfo where the token lacks them (for
// core.ClaimsService), the raw ID token (for RP-initiated
// logout's id_token_hint; never logged) and what the flow was for.
type Result struct {
	Identity core.ExternalIdentity
	Claims   map[string]any
	IDToken  string
	Purpose  string
	UserID   string
	Back     string
}

// Finish completes a flow at the callback of provider id: it opens the sealed state,
// checks the callback's state against it, exchanges the code with the PKCE verifier,
// and verifies the ID token and its nonce. Every refusal is an *Error.
func (rp *RelyingParty) Finish(ctx context.Context, id, redirectURL string, query url.Values, sealed string) (*Result, error) {
	var st flowState
	if err := rp.box.open(cookieState, sealed, rp.now(), &st); err != nil {
		return nil, &Error{Kind: KindState, Err: err}
	}
	if st.Provider != id || subtle.ConstantTimeCompare([]byte(st.State), []byte(query.Get("state"))) != 1 {
		return nil, &Error{Kind: KindState, Err: errors.New("state does not match the one sent")}
	}
	if e := query.Get("error"); e != "" {
		return nil, &Error{Kind: KindDenied, Err: fmt.Errorf("provider answered %.64q", e)}
	}
	code := query.Get("code")
	if code == "" {
		return nil, &Error{Kind: KindState, Err: errors.New("no code")}
	}
	_, d, err := rp.discover(ctx, id)
	if err != nil {
		return nil, err
	}
	cfg := d.oauth
	cfg.RedirectURL = redirectURL
	tok, err := cfg.Exchange(rp.providerContext(ctx), code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		// The provider's answer may quote the request; only its kind is kept.
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return nil, &Error{Kind: KindToken, Err: fmt.Errorf("code exchange refused: %.64q", re.ErrorCode)}
		}
		return nil, &Error{Kind: KindUnavailable, Err: errors.New("code exchange failed")}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, &Error{Kind: KindToken, Err: errors.New("no id_token in the token response")}
	}
	idt, err := d.verifier.Verify(rp.providerContext(ctx), raw)
	if err != nil {
		return nil, &Error{Kind: KindToken, Err: verifyReason(err)}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return nil, &Error{Kind: KindToken, Err: errors.New("nonce does not match the one sent")}
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return nil, &Error{Kind: KindToken, Err: errors.New("claims cannot be read")}
	}
	if _, ok := claims["email"]; !ok && d.userInfo {
		if err := rp.addUserInfo(ctx, d, tok, idt.Subject, claims); err != nil {
			return nil, err
		}
	}
	ident := core.ExternalIdentity{Provider: id, Subject: idt.Subject}
	ident.Email, _ = claims["email"].(string)
	ident.EmailVerified = claimBool(claims["email_verified"])
	ident.Name = claimName(claims)
	return &Result{Identity: ident, Claims: claims, IDToken: raw, Purpose: st.Purpose, UserID: st.UserID, Back: st.Back}, nil
}

// addUserInfo adds the claims of the provider's userinfo endpoint that the ID token
// lacks: many providers put only the subject in the ID token and the profile (email,
// name, address) behind the access token. The ID token's claims win, and the
// userinfo must be about the same subject (OpenID Connect Core §5.3.2).
func (rp *RelyingParty) addUserInfo(ctx context.Context, d *discovered, tok *oauth2.Token, subject string, claims map[string]any) error {
	ui, err := d.op.UserInfo(rp.providerContext(ctx), oauth2.StaticTokenSource(tok))
	if err != nil {
		return &Error{Kind: KindUnavailable, Err: errors.New("userinfo failed")}
	}
	if ui.Subject != subject {
		return &Error{Kind: KindToken, Err: errors.New("userinfo is about another subject")}
	}
	var extra map[string]any
	if err := ui.Claims(&extra); err != nil {
		return &Error{Kind: KindToken, Err: errors.New("userinfo cannot be read")}
	}
	for k, v := range extra {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
	return nil
}

// verifyReason names why go-oidc refused a token without quoting the token.
func verifyReason(err error) error {
	var expired *gooidc.TokenExpiredError
	switch {
	case errors.As(err, &expired):
		return errors.New("id token expired")
	case strings.Contains(err.Error(), "issued by a different provider"):
		return errors.New("id token issued by another provider")
	case strings.Contains(err.Error(), "signature"):
		// Also another provider's token: go-oidc checks the signature against this
		// provider's keys before it reads the issuer.
		return errors.New("id token signature not valid")
	case strings.Contains(err.Error(), "audience"):
		return errors.New("id token for another client")
	default:
		return errors.New("id token not valid")
	}
}

// claimBool reads email_verified, which some providers send as a string.
func claimBool(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return b == "true"
	}
	return false
}

func claimName(c map[string]any) string {
	if n, _ := c["name"].(string); strings.TrimSpace(n) != "" {
		return n
	}
	given, _ := c["given_name"].(string)
	family, _ := c["family_name"].(string)
	return strings.TrimSpace(given + " " + family)
}

// Origins are the origins signing out of a session begun with provider id may be
// redirected to: its issuer's, and its end_session_endpoint's once discovered.
func (rp *RelyingParty) Origins(id string) []string {
	p, ok := rp.byID[id]
	if !ok {
		return nil
	}
	out := []string{origin(p.cfg.Issuer)}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.found != nil && p.found.endSession != "" {
		if o := origin(p.found.endSession); o != out[0] && o != "" {
			out = append(out, o)
		}
	}
	return out
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// EndSessionURL is where signing out of a session begun with provider id leads, for
// RP-initiated logout: the provider's end_session_endpoint with the ID token as a
// hint and postLogout to come back to; ok is false when the provider has none.
func (rp *RelyingParty) EndSessionURL(ctx context.Context, id, idToken, postLogout string) (string, bool) {
	if !rp.Has(id) {
		return "", false
	}
	p, d, err := rp.discover(ctx, id)
	if err != nil || d.endSession == "" {
		return "", false
	}
	u, err := url.Parse(d.endSession)
	if err != nil {
		return "", false
	}
	q := u.Query()
	q.Set("id_token_hint", idToken)
	q.Set("client_id", p.cfg.ClientID)
	q.Set("post_logout_redirect_uri", postLogout)
	u.RawQuery = q.Encode()
	return u.String(), true
}

// Error kinds: what went wrong, for the page that says so.
const (
	// KindState: the state cookie is missing, expired, tampered with or for another
	// flow, or the callback's state is not its own (a forged or replayed callback).
	KindState = "state"
	// KindToken: the code was refused or the ID token failed verification (issuer,
	// audience, expiry, signature, nonce).
	KindToken = "token"
	// KindDenied: the person cancelled at the provider, or it refused them.
	KindDenied = "denied"
	// KindUnavailable: the provider cannot be reached.
	KindUnavailable = "unavailable"
	// KindUnknownProvider: no provider has the id.
	KindUnknownProvider = "unknown_provider"
)

// Error is a refused flow. Err says why for the log; it never holds a token, a code
// or a secret.
type Error struct {
	Kind string
	Err  error
}

func (e *Error) Error() string { return "oidc " + e.Kind + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }
