package oidc

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// What the sealed cookies hold; each is sealed with its kind as associated data, so
// one cannot be passed off as another.
const (
	cookieState   = "oidc state v1"
	cookiePending = "oidc pending link v1"
	cookieLogout  = "oidc logout v1"
)

// box seals small values for cookies with AES-256-GCM: secret (the browser cannot
// read the nonce or the PKCE verifier) and authentic (it cannot change them).
type box struct{ aead cipher.AEAD }

func newBox(key []byte) (*box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("oidc: the state key is %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	return &box{aead: aead}, nil
}

type sealedValue struct {
	Expires int64           `json:"e"`
	Value   json.RawMessage `json:"v"`
}

var errSealed = errors.New("sealed value missing, altered or expired")

func (b *box) seal(kind string, v any, expires time.Time) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("oidc: seal: %w", err)
	}
	plain, err := json.Marshal(sealedValue{Expires: expires.Unix(), Value: raw})
	if err != nil {
		return "", fmt.Errorf("oidc: seal: %w", err)
	}
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("oidc: seal: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b.aead.Seal(nonce, nonce, plain, []byte(kind))), nil
}

func (b *box) open(kind, s string, now time.Time, v any) error {
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(data) < b.aead.NonceSize() {
		return errSealed
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, data[:n], data[n:], []byte(kind))
	if err != nil {
		return errSealed
	}
	var sv sealedValue
	if err := json.Unmarshal(plain, &sv); err != nil || now.Unix() > sv.Expires {
		return errSealed
	}
	if err := json.Unmarshal(sv.Value, v); err != nil {
		return errSealed
	}
	return nil
}
