package core

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// CSRFToken derives the anti-forgery token of a session token. A page can read it from
// its cookie; a forged cross-site request cannot, and the server need not store it.
// The identity service hands it out at sign-in and the HTTP adapter checks it.
func CSRFToken(sessionToken string) string {
	sum := sha256.Sum256([]byte("kvarter-csrf\x00" + sessionToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// CheckCSRF compares a presented anti-forgery token with the session's, in constant time.
func CheckCSRF(sessionToken, presented string) bool {
	return subtle.ConstantTimeCompare([]byte(CSRFToken(sessionToken)), []byte(presented)) == 1
}
