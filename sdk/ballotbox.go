package sdk

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"sync"

	"github.com/kvarter/kvarter/sdk/seal"
)

// unsealBatchBytes bounds the sealed bytes of one Host.Unseal call, well under the
// protocol's message limit.
const unsealBatchBytes = 8 << 20

// maxCachedSealers bounds the votes a BallotBox keeps a sealer for; a plugin has few
// votes open at once, and a dropped sealer only costs one more host call.
const maxCachedSealers = 4096

// BallotBox seals secret ballots in the plugin and has the host open them at the
// close (DESIGN.md §13). Store what Seal returns instead of the choice: without the
// core's key file nobody who reads the plugin's store, its dumps or its WAL can tell
// the choice, so a voter mark written in the same transaction pairs the voter with
// nothing. At the close, Open the vote's sealed ballots, write what it returns (in
// its shuffled order) as plaintext ballots in one transaction, and delete the sealed
// ones. One BallotBox serves the whole plugin; it is safe for concurrent use.
type BallotBox struct {
	host Host

	mu      sync.Mutex
	sealers map[string]*sealerEntry
}

type sealerEntry struct {
	once   sync.Once
	sealer *seal.Sealer
	err    error
}

// NewBallotBox returns a BallotBox that asks host for the votes' keys.
func NewBallotBox(host Host) *BallotBox {
	return &BallotBox{host: host, sealers: map[string]*sealerEntry{}}
}

// Seal seals ballot for vote voteID, padded to size bytes: pass the same size for
// every ballot of a vote (the largest ballot the vote allows), so that the length of
// the sealed ballot says nothing about it. The vote's key is asked of the host once;
// every later ballot is sealed without a call.
func (b *BallotBox) Seal(ctx context.Context, voteID string, ballot []byte, size int) ([]byte, error) {
	s, err := b.sealer(ctx, voteID)
	if err != nil {
		return nil, err
	}
	return s.Seal(ballot, size)
}

func (b *BallotBox) sealer(ctx context.Context, voteID string) (*seal.Sealer, error) {
	b.mu.Lock()
	e, ok := b.sealers[voteID]
	if !ok {
		if len(b.sealers) >= maxCachedSealers {
			clear(b.sealers)
		}
		e = &sealerEntry{}
		b.sealers[voteID] = e
	}
	b.mu.Unlock()
	e.once.Do(func() {
		var pub seal.PublicKey
		if pub, e.err = b.host.SealingKey(ctx, voteID); e.err == nil {
			e.sealer, e.err = seal.NewSealer(pub)
		}
	})
	if e.err != nil {
		b.mu.Lock()
		if b.sealers[voteID] == e {
			delete(b.sealers, voteID) // ask again next time: the host may have been away
		}
		b.mu.Unlock()
		return nil, fmt.Errorf("sealing key of vote %s: %w", voteID, e.err)
	}
	return e.sealer, nil
}

// Open has the host open the sealed ballots of vote voteID, in batches, and returns
// them shuffled (crypto/rand), so that their order tells nothing of the order they
// were cast or stored in. All open or none is returned.
func (b *BallotBox) Open(ctx context.Context, voteID string, sealed [][]byte) ([][]byte, error) {
	out := make([][]byte, 0, len(sealed))
	for start := 0; start < len(sealed); {
		end, bytes := start, 0
		for end < len(sealed) && end-start < MaxUnsealBatch && (end == start || bytes+len(sealed[end]) <= unsealBatchBytes) {
			bytes += len(sealed[end])
			end++
		}
		opened, err := b.host.Unseal(ctx, voteID, sealed[start:end])
		if err != nil {
			return nil, fmt.Errorf("unseal vote %s: %w", voteID, err)
		}
		out = append(out, opened...)
		start = end
	}
	if err := Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] }); err != nil {
		return nil, err
	}
	return out, nil
}

// Shuffle permutes n elements uniformly with a ChaCha8 generator seeded from
// crypto/rand: an order an attacker could predict, or replay from a guessable seed,
// might be lined up with the order of the voter marks.
func Shuffle(n int, swap func(i, j int)) error {
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return fmt.Errorf("shuffle: %w", err)
	}
	mrand.New(mrand.NewChaCha8(seed)).Shuffle(n, swap)
	return nil
}
