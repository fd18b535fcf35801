// Package password hashes and checks passwords with argon2id and refuses passwords that
// are too short, too long or among the most commonly used.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Length limits, in characters.
const (
	MinLength = 10
	MaxLength = 128
)

// Params are argon2id cost parameters.
type Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

// DefaultParams follow the OWASP recommendation for argon2id (19 MiB, 2 passes, 1 lane).
var DefaultParams = Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}

// TestParams are cheap parameters for tests only; never use them in production.
var TestParams = Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// Hasher hashes passwords with fixed parameters.
type Hasher struct{ Params Params }

// Hash returns an encoded argon2id hash in the PHC string format.
func (h Hasher) Hash(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	p := h.Params
	key := argon2.IDKey([]byte(pw), salt, p.Iterations, p.MemoryKiB, p.Parallelism, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Iterations, p.Parallelism,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify reports whether pw matches the encoded hash. It uses the parameters stored in
// the hash, so raising DefaultParams does not lock anyone out.
func (Hasher) Verify(pw, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("password hash: not argon2id")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("password hash: unsupported version")
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Parallelism); err != nil {
		return false, fmt.Errorf("password hash: parameters: %w", err)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("password hash: salt: %w", err)
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false, fmt.Errorf("password hash: key: %w", err)
	}
	got := argon2.IDKey([]byte(pw), salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

//go:embed common.txt
var commonList string

var common = func() map[string]struct{} {
	m := make(map[string]struct{})
	for _, line := range strings.Split(commonList, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			m[strings.ToLower(line)] = struct{}{}
		}
	}
	return m
}()

// Check returns a plain-words problem with pw, or "" when it is acceptable. personal are
// words the password must not simply be (the email, its local part, the display name).
func Check(pw string, personal ...string) string {
	if !utf8.ValidString(pw) {
		return "must be valid text"
	}
	n := utf8.RuneCountInString(pw)
	if n < MinLength {
		return fmt.Sprintf("must be at least %d characters long", MinLength)
	}
	if n > MaxLength {
		return fmt.Sprintf("must be at most %d characters long", MaxLength)
	}
	lower := strings.ToLower(pw)
	if _, ok := common[lower]; ok {
		return "is one of the most commonly used passwords; choose another"
	}
	if isRepetitive(lower) {
		return "is too easy to guess; avoid repeated characters and simple sequences"
	}
	for _, w := range personal {
		w = strings.ToLower(strings.TrimSpace(w))
		if w != "" && (lower == w || (len(w) >= 4 && strings.Contains(lower, w) && len(lower)-len(w) < 4)) {
			return "must not be your email address or name"
		}
	}
	return ""
}

// isRepetitive catches one repeated character, or a short pattern repeated ("abcabcabca",
// "1212121212") and runs of consecutive characters ("0123456789", "abcdefghij").
func isRepetitive(s string) bool {
	r := []rune(s)
	for period := 1; period <= 3; period++ {
		repeats := true
		for i := period; i < len(r); i++ {
			if r[i] != r[i-period] {
				repeats = false
				break
			}
		}
		if repeats {
			return true
		}
	}
	up, down := true, true
	for i := 1; i < len(r); i++ {
		if r[i] != r[i-1]+1 {
			up = false
		}
		if r[i] != r[i-1]-1 {
			down = false
		}
	}
	return up || down
}
