package oidc

import (
	"time"

	"github.com/kvarter/kvarter/core"
)

// PendingTTL is how long a person has to sign in locally to link an identity the
// provider vouched for.
const PendingTTL = 10 * time.Minute

// maxCookie bounds a sealed pending link: a browser keeps a cookie of about 4 KB at
// most, name and attributes included.
const maxCookie = 3500

// Pending is an identity waiting to be linked: the provider vouched for it, and its
// verified address is an account's, whose owner must sign in once to link it.
type Pending struct {
	Identity      core.ExternalIdentity `json:"identity"`
	EmailVerified bool                  `json:"email_verified"`
	Name          string                `json:"name,omitempty"`
	Claims        map[string]any        `json:"claims,omitempty"`
	Back          string                `json:"back,omitempty"`
}

// SealPending seals res as a pending link for a cookie; claims too large for one
// are left out (ApplyClaims then runs at the identity's next sign-in).
func (rp *RelyingParty) SealPending(res *Result) (string, error) {
	p := Pending{Identity: res.Identity, EmailVerified: res.Identity.EmailVerified, Name: res.Identity.Name, Claims: res.Claims, Back: res.Back}
	s, err := rp.box.seal(cookiePending, p, rp.now().Add(PendingTTL))
	if err == nil && len(s) > maxCookie {
		p.Claims = nil
		s, err = rp.box.seal(cookiePending, p, rp.now().Add(PendingTTL))
	}
	return s, err
}

// OpenPending opens a sealed pending link; ok is false when it is missing, altered
// or expired.
func (rp *RelyingParty) OpenPending(sealed string) (Pending, bool) {
	var p Pending
	if err := rp.box.open(cookiePending, sealed, rp.now(), &p); err != nil {
		return Pending{}, false
	}
	p.Identity.EmailVerified, p.Identity.Name = p.EmailVerified, p.Name
	return p, true
}

// Logout is what RP-initiated logout needs of a session begun with a provider.
type Logout struct {
	Provider string `json:"p"`
	IDToken  string `json:"t"`
}

// SealLogout seals the provider and ID token of a session for the logout cookie,
// valid as long as the session.
func (rp *RelyingParty) SealLogout(l Logout, expires time.Time) (string, error) {
	return rp.box.seal(cookieLogout, l, expires)
}

// OpenLogout opens a sealed logout cookie.
func (rp *RelyingParty) OpenLogout(sealed string) (Logout, bool) {
	var l Logout
	if err := rp.box.open(cookieLogout, sealed, rp.now(), &l); err != nil {
		return Logout{}, false
	}
	return l, true
}
