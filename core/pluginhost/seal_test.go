package pluginhost

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/seal"
)

// TestHostAPI_Unseal checks that a plugin reaches the keys of its own votes only: the
// host derives every key from the plugin's name, which the plugin cannot choose, so a
// ballot of one plugin's vote does not open for another plugin asking for the same
// vote ID.
func TestHostAPI_Unseal(t *testing.T) {
	master := make([]byte, seal.KeySize)
	_, _ = rand.Read(master)
	keys, err := seal.NewKeyring(master)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	assemblies := &hostAPI{name: "assemblies", keys: keys}
	intruder := &hostAPI{name: "intruder", keys: keys}
	pub, err := assemblies.SealingKey(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := seal.NewSealer(pub)
	sealed, _ := s.Seal([]byte("abstain"), 8)

	t.Run("OK", func(t *testing.T) {
		got, err := assemblies.Unseal(ctx, "m1", [][]byte{sealed})
		if err != nil || len(got) != 1 || string(got[0]) != "abstain" {
			t.Fatalf("unseal: %q, %v", got, err)
		}
	})
	t.Run("ErrOtherPlugin", func(t *testing.T) {
		if other, _ := intruder.SealingKey(ctx, "m1"); other == pub {
			t.Fatal("two plugins got the same key for one vote ID")
		}
		if _, err := intruder.Unseal(ctx, "m1", [][]byte{sealed}); !errors.Is(err, seal.ErrOpen) {
			t.Fatalf("another plugin unsealed the ballot: %v", err)
		}
	})
	t.Run("ErrBatch", func(t *testing.T) {
		if _, err := assemblies.Unseal(ctx, "m1", make([][]byte, sdk.MaxUnsealBatch+1)); err == nil {
			t.Fatal("an oversized batch was accepted")
		}
		if _, err := assemblies.SealingKey(ctx, ""); err == nil {
			t.Fatal("an empty vote ID was accepted")
		}
	})
	t.Run("ErrNoKeyFile", func(t *testing.T) {
		if _, err := (&hostAPI{name: "assemblies"}).SealingKey(ctx, "m1"); err == nil {
			t.Fatal("a host without a key file handed out a key")
		}
	})
}
