// Package seal is the one format of sealed ballots (DESIGN.md §13): a choice encrypted
// to a public key the core hands out per vote, padded to one size per vote, so that a
// plugin's store holds nothing that pairs a voter with a choice — not in its rows, not
// in hidden columns, dumps or WAL frames — while the vote is open.
//
// A plugin seals with a Sealer (package sdk's BallotBox keeps one per vote); the core
// opens with a Keyring derived from its master key file, which never enters any
// database. The key pair of a vote is derived from the master key, the plugin's name
// and the vote's ID, so every node agrees on it without storing a private key, and a
// plugin can never obtain a key of another plugin's vote.
//
// The box is NaCl's crypto_box (X25519, XSalsa20-Poly1305; golang.org/x/crypto/nacl/box)
// from an ephemeral key pair that a Sealer makes when it is created and keeps only in
// memory, with a random 24-byte nonce per ballot:
//
//	sealed = ephemeral public key (32) || nonce (24) || box(padded ballot) (size+4+16)
//
// This is a sealed box (crypto_box_seal) whose ephemeral key is reused by one process
// for one vote: the same secrecy, one X25519 per process and vote instead of one per
// ballot, so sealing costs the ballot path microseconds and opening 100,000 ballots
// needs one X25519 per distinct ephemeral key rather than 100,000.
package seal

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/nacl/box"
)

// KeySize is the size of a public key, a private key and a master key.
const KeySize = 32

const (
	nonceSize = 24
	lenSize   = 4 // big-endian length of the ballot inside the padding
	// Overhead is what sealing adds to the padded size of a ballot.
	Overhead = KeySize + nonceSize + lenSize + box.Overhead
	// MaxSize bounds the padded size of one ballot.
	MaxSize = 1 << 20
)

// PublicKey is the key ballots of one vote are sealed to.
type PublicKey [KeySize]byte

// ErrOpen means a sealed ballot could not be opened: it was not sealed to this vote's
// key, or it was altered.
var ErrOpen = errors.New("sealed ballot does not open with this vote's key")

// Sealer seals ballots to one vote's public key. It is safe for concurrent use.
type Sealer struct {
	ephemeral PublicKey
	shared    [KeySize]byte
}

// NewSealer makes a Sealer with a fresh ephemeral key pair for the vote key pub.
func NewSealer(pub PublicKey) (*Sealer, error) {
	ePub, ePriv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("seal: ephemeral key: %w", err)
	}
	s := &Sealer{ephemeral: *ePub}
	box.Precompute(&s.shared, (*[KeySize]byte)(&pub), ePriv)
	clear(ePriv[:])
	return s, nil
}

// Seal pads ballot to size bytes and seals it. Every ballot of a vote must be sealed
// with the same size, so that the length of a sealed ballot tells nothing about it.
func (s *Sealer) Seal(ballot []byte, size int) ([]byte, error) {
	if size <= 0 || size > MaxSize {
		return nil, fmt.Errorf("seal: padded size %d out of range (1..%d)", size, MaxSize)
	}
	if len(ballot) > size {
		return nil, fmt.Errorf("seal: ballot of %d bytes exceeds the vote's padded size %d", len(ballot), size)
	}
	padded := make([]byte, lenSize+size)
	binary.BigEndian.PutUint32(padded, uint32(len(ballot)))
	copy(padded[lenSize:], ballot)
	out := make([]byte, KeySize+nonceSize, Overhead+size)
	copy(out, s.ephemeral[:])
	nonce := (*[nonceSize]byte)(out[KeySize:])
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return box.SealAfterPrecomputation(out, padded, nonce, &s.shared), nil
}

// Keyring holds the core's master keys and derives from them the key pair of every
// vote. The first key is current: public keys are derived from it. Older keys stay to
// open ballots sealed before a rotation.
type Keyring struct {
	masters [][KeySize]byte
}

// NewKeyring makes a keyring of master keys, the current one first.
func NewKeyring(masters ...[]byte) (*Keyring, error) {
	if len(masters) == 0 {
		return nil, errors.New("seal: a keyring needs at least one master key")
	}
	k := &Keyring{}
	for i, m := range masters {
		if len(m) != KeySize {
			return nil, fmt.Errorf("seal: master key %d is %d bytes, want %d", i+1, len(m), KeySize)
		}
		k.masters = append(k.masters, [KeySize]byte(m))
	}
	return k, nil
}

// derive is the private key of vote voteID of plugin from one master key:
// HKDF-SHA256 with the plugin and the vote in the info, so two plugins, or two votes,
// never share a key. curve25519 clamps the scalar.
func derive(master [KeySize]byte, plugin, voteID string) ([KeySize]byte, error) {
	info := "kvarter sealed ballot v1\x00" + plugin + "\x00" + voteID
	b, err := hkdf.Key(sha256.New, master[:], nil, info, KeySize)
	if err != nil {
		return [KeySize]byte{}, fmt.Errorf("seal: derive key: %w", err)
	}
	return [KeySize]byte(b), nil
}

// Derive is a secret key for another purpose of the core (such as signing the
// one-click unsubscribe links of notification mails) from the current master key:
// HKDF-SHA256 with the purpose in the info, so it shares nothing with the keys of
// votes, and every node holding the key file derives the same key. A rotation of the
// master key changes it.
func (k *Keyring) Derive(purpose string) ([]byte, error) {
	b, err := hkdf.Key(sha256.New, k.masters[0][:], nil, "kvarter purpose v1\x00"+purpose, KeySize)
	if err != nil {
		return nil, fmt.Errorf("seal: derive key for %s: %w", purpose, err)
	}
	return b, nil
}

// PublicKey is the key the ballots of plugin's vote voteID are sealed to.
func (k *Keyring) PublicKey(plugin, voteID string) (PublicKey, error) {
	priv, err := derive(k.masters[0], plugin, voteID)
	if err != nil {
		return PublicKey{}, err
	}
	defer clear(priv[:])
	pub, err := curve25519.X25519(priv[:], curve25519.Basepoint)
	if err != nil {
		return PublicKey{}, fmt.Errorf("seal: public key: %w", err)
	}
	return PublicKey(pub), nil
}

// Open opens ballots sealed to plugin's vote voteID, in order, and returns them
// without their padding. One ballot that does not open fails the whole batch.
func (k *Keyring) Open(plugin, voteID string, sealed [][]byte) ([][]byte, error) {
	privs := make([][KeySize]byte, len(k.masters))
	for i, m := range k.masters {
		p, err := derive(m, plugin, voteID)
		if err != nil {
			return nil, err
		}
		privs[i] = p
	}
	defer func() {
		for i := range privs {
			clear(privs[i][:])
		}
	}()
	// One shared key per ephemeral key, found by trying each master key: a process
	// seals all its ballots of a vote with one ephemeral key.
	shared := map[PublicKey]*[KeySize]byte{}
	out := make([][]byte, len(sealed))
	for i, s := range sealed {
		if len(s) < Overhead {
			return nil, fmt.Errorf("ballot %d of %d: %w (%d bytes, too short)", i+1, len(sealed), ErrOpen, len(s))
		}
		eph := PublicKey(s[:KeySize])
		nonce := (*[nonceSize]byte)(s[KeySize : KeySize+nonceSize])
		body := s[KeySize+nonceSize:]
		var (
			padded []byte
			ok     bool
		)
		if key, found := shared[eph]; found {
			padded, ok = box.OpenAfterPrecomputation(nil, body, nonce, key)
		} else {
			for p := range privs {
				key := new([KeySize]byte)
				box.Precompute(key, (*[KeySize]byte)(&eph), &privs[p])
				if padded, ok = box.OpenAfterPrecomputation(nil, body, nonce, key); ok {
					shared[eph] = key
					break
				}
			}
		}
		if !ok {
			return nil, fmt.Errorf("ballot %d of %d: %w", i+1, len(sealed), ErrOpen)
		}
		n := binary.BigEndian.Uint32(padded)
		if int64(n) > int64(len(padded)-lenSize) {
			return nil, fmt.Errorf("ballot %d of %d: %w (bad padding)", i+1, len(sealed), ErrOpen)
		}
		out[i] = padded[lenSize : lenSize+int(n)]
	}
	return out, nil
}
