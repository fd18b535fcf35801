package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/seal"
)

// countingHost is a host with a real keyring that counts the sealing calls.
type countingHost struct {
	sdk.Host // only the sealing methods are called
	sdktest.Sealing
	keys, unseals, largest atomic.Int32
}

func (h *countingHost) SealingKey(ctx context.Context, voteID string) (seal.PublicKey, error) {
	h.keys.Add(1)
	return h.Sealing.SealingKey(ctx, voteID)
}

func (h *countingHost) Unseal(ctx context.Context, voteID string, sealed [][]byte) ([][]byte, error) {
	h.unseals.Add(1)
	for {
		if l := h.largest.Load(); int(l) >= len(sealed) || h.largest.CompareAndSwap(l, int32(len(sealed))) {
			break
		}
	}
	return h.Sealing.Unseal(ctx, voteID, sealed)
}

func TestBallotBox(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		h := &countingHost{}
		box := sdk.NewBallotBox(h)
		n := sdk.MaxUnsealBatch + 5 // several Unseal calls, run concurrently
		var sealed [][]byte
		var want []string
		for i := range n {
			b := fmt.Sprintf("ballot %d", i)
			s, err := box.Seal(ctx, "vote-1", []byte(b), 16)
			if err != nil {
				t.Fatal(err)
			}
			sealed, want = append(sealed, s), append(want, b)
		}
		if h.keys.Load() != 1 {
			t.Errorf("%d sealing key calls for %d ballots of one vote, want 1", h.keys.Load(), n)
		}
		var checked atomic.Int32
		opened, err := box.Open(ctx, "vote-1", sealed, func([]byte) error { checked.Add(1); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if h.unseals.Load() < 2 || h.largest.Load() > sdk.MaxUnsealBatch {
			t.Errorf("%d Unseal calls, the largest of %d ballots, for %d ballots: want batches of at most %d",
				h.unseals.Load(), h.largest.Load(), n, sdk.MaxUnsealBatch)
		}
		if checked.Load() != int32(n) {
			t.Errorf("%d ballots checked of %d", checked.Load(), n)
		}
		got := make([]string, len(opened))
		inPlace := 0
		for i, o := range opened {
			got[i] = string(o)
			if got[i] == want[i] {
				inPlace++
			}
		}
		if inPlace > n/100 {
			t.Errorf("%d of %d ballots opened in the order they were sealed: not shuffled", inPlace, n)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Error("the opened ballots are not the sealed ones")
		}
	})
	t.Run("ErrOtherVote", func(t *testing.T) {
		box := sdk.NewBallotBox(&countingHost{})
		s, err := box.Seal(ctx, "vote-1", []byte("yes"), 8)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := box.Open(ctx, "vote-2", [][]byte{s}, nil); err == nil {
			t.Fatal("a ballot of one vote opened as another's")
		}
	})
	t.Run("ErrCheck", func(t *testing.T) {
		// One ballot the check refuses, among many batches, fails the whole open.
		box := sdk.NewBallotBox(&countingHost{})
		var sealed [][]byte
		for i := range 3 * sdk.MaxUnsealBatch / 2 {
			b := "yes"
			if i == 12_345 {
				b = "maybe"
			}
			s, err := box.Seal(ctx, "vote-1", []byte(b), 8)
			if err != nil {
				t.Fatal(err)
			}
			sealed = append(sealed, s)
		}
		opened, err := box.Open(ctx, "vote-1", sealed, func(o []byte) error {
			if string(o) != "yes" {
				return errors.New("not a choice")
			}
			return nil
		})
		if err == nil || !strings.Contains(err.Error(), "not a choice") || opened != nil {
			t.Fatalf("open with a refused ballot: %d opened, %v", len(opened), err)
		}
	})
}
