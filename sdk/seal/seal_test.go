package seal_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"

	"github.com/kvarter/kvarter/sdk/seal"
)

func newMaster(tb testing.TB) []byte {
	tb.Helper()
	m := make([]byte, seal.KeySize)
	if _, err := rand.Read(m); err != nil {
		tb.Fatal(err)
	}
	return m
}

func newKeyring(tb testing.TB, masters ...[]byte) *seal.Keyring {
	tb.Helper()
	k, err := seal.NewKeyring(masters...)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func sealAll(tb testing.TB, k *seal.Keyring, plugin, vote string, size int, ballots ...string) [][]byte {
	tb.Helper()
	pub, err := k.PublicKey(plugin, vote)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := seal.NewSealer(pub)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([][]byte, len(ballots))
	for i, b := range ballots {
		if out[i], err = s.Seal([]byte(b), size); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

func TestKeyring_Open(t *testing.T) {
	master := newMaster(t)
	k := newKeyring(t, master)
	ballots := []string{"yes", "no", "abstain", ""}

	t.Run("OK", func(t *testing.T) {
		sealed := sealAll(t, k, "assemblies", "m1", 16, ballots...)
		for i, s := range sealed {
			if len(s) != seal.Overhead+16 {
				t.Errorf("ballot %d sealed to %d bytes, want %d whatever the choice", i, len(s), seal.Overhead+16)
			}
			if bytes.Contains(s, []byte(ballots[i])) && ballots[i] != "" {
				t.Errorf("sealed ballot %d contains its plaintext", i)
			}
		}
		// Another node derives the same key from the same master key.
		opened, err := newKeyring(t, master).Open("assemblies", "m1", sealed)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range opened {
			if string(o) != ballots[i] {
				t.Errorf("ballot %d opened to %q, want %q", i, o, ballots[i])
			}
		}
	})
	t.Run("ErrOtherPlugin", func(t *testing.T) {
		sealed := sealAll(t, k, "assemblies", "m1", 16, "yes")
		if _, err := k.Open("budgeting", "m1", sealed); !errors.Is(err, seal.ErrOpen) {
			t.Fatalf("another plugin opened a ballot: err %v", err)
		}
	})
	t.Run("ErrOtherVote", func(t *testing.T) {
		sealed := sealAll(t, k, "assemblies", "m1", 16, "yes")
		if _, err := k.Open("assemblies", "m2", sealed); !errors.Is(err, seal.ErrOpen) {
			t.Fatalf("a ballot opened under another vote: err %v", err)
		}
	})
	t.Run("ErrOtherMaster", func(t *testing.T) {
		sealed := sealAll(t, k, "assemblies", "m1", 16, "yes")
		if _, err := newKeyring(t, newMaster(t)).Open("assemblies", "m1", sealed); !errors.Is(err, seal.ErrOpen) {
			t.Fatalf("a ballot opened without the master key: err %v", err)
		}
	})
	t.Run("ErrTampered", func(t *testing.T) {
		sealed := sealAll(t, k, "assemblies", "m1", 16, "yes", "no")
		sealed[1][len(sealed[1])-1] ^= 1
		if _, err := k.Open("assemblies", "m1", sealed); !errors.Is(err, seal.ErrOpen) {
			t.Fatalf("an altered ballot opened: err %v", err)
		}
		if _, err := k.Open("assemblies", "m1", [][]byte{[]byte("short")}); !errors.Is(err, seal.ErrOpen) {
			t.Fatalf("a truncated ballot opened: err %v", err)
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		pub, _ := k.PublicKey("assemblies", "m1")
		s, _ := seal.NewSealer(pub)
		if _, err := s.Seal([]byte("abstain"), 4); err == nil {
			t.Fatal("a ballot larger than the vote's size was sealed")
		}
	})
	t.Run("Rotation", func(t *testing.T) {
		old := sealAll(t, k, "assemblies", "m1", 16, "yes")
		rotated := newKeyring(t, newMaster(t), master)
		fresh := sealAll(t, rotated, "assemblies", "m1", 16, "no")
		opened, err := rotated.Open("assemblies", "m1", append(old, fresh...))
		if err != nil {
			t.Fatal(err)
		}
		if string(opened[0]) != "yes" || string(opened[1]) != "no" {
			t.Fatalf("after a rotation got %q, want yes and no", opened)
		}
	})
}

// BenchmarkKeyring_Open opens 100,000 ballots sealed by 2 processes (two ephemeral
// keys), as the close of a vote does.
//
//	go test -run '^$' -bench Keyring_Open ./seal
func BenchmarkKeyring_Open(b *testing.B) {
	const n = 100_000
	k := newKeyring(b, newMaster(b))
	var sealed [][]byte
	for p := range 2 {
		ballots := make([]string, n/2)
		for i := range ballots {
			ballots[i] = fmt.Sprintf(`{"choice":%d,"p":%d}`, i%3, p)
		}
		sealed = append(sealed, sealAll(b, k, "budgeting", "c1", 64, ballots...)...)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := k.Open("budgeting", "c1", sealed); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "ballots/s")
}

// BenchmarkSealer_Seal is the cost sealing adds to one ballot.
func BenchmarkSealer_Seal(b *testing.B) {
	k := newKeyring(b, newMaster(b))
	pub, _ := k.PublicKey("assemblies", "m1")
	s, _ := seal.NewSealer(pub)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Seal([]byte("abstain"), 16); err != nil {
				b.Fatal(err)
			}
		}
	})
}
