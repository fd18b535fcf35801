package sdk

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"runtime"
	"sync"

	"github.com/kvarter/kvarter/sdk/seal"
)

// unsealBatchBytes bounds the sealed bytes of one Host.Unseal call, well under the
// protocol's message limit.
const unsealBatchBytes = 8 << 20

// unsealBatchBallots bounds the ballots of one Host.Unseal call: small enough that a
// close of tens of thousands of ballots makes a batch for every core, large enough
// that the call's own cost is nothing next to opening the ballots.
const unsealBatchBallots = min(MaxUnsealBatch, 5_000)

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
// were cast or stored in. All open or none is returned. check, if not nil, is called
// on every opened ballot (from several goroutines at once) and its error stops the
// open: a plugin checks that each ballot is one it could have sealed.
//
// Batches go to the host concurrently, one per core at most, so a close of 100,000
// ballots unseals on every core the host has rather than on one, and the checks run
// while the next batches are being opened.
func (b *BallotBox) Open(ctx context.Context, voteID string, sealed [][]byte, check func(ballot []byte) error) ([][]byte, error) {
	var batches [][2]int // start and end of each batch
	for start := 0; start < len(sealed); {
		end, bytes := start, 0
		for end < len(sealed) && end-start < unsealBatchBallots && (end == start || bytes+len(sealed[end]) <= unsealBatchBytes) {
			bytes += len(sealed[end])
			end++
		}
		batches = append(batches, [2]int{start, end})
		start = end
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := make([][]byte, len(sealed))
	next := make(chan [2]int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(batches)) {
		wg.Go(func() {
			for batch := range next {
				if err := b.openBatch(ctx, voteID, sealed, out, batch[0], batch[1], check); err != nil {
					cancel(err)
				}
			}
		})
	}
	for _, batch := range batches {
		if ctx.Err() != nil {
			break
		}
		next <- batch
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	if err := Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] }); err != nil {
		return nil, err
	}
	return out, nil
}

// openBatch opens sealed[start:end] into out[start:end] and checks each ballot.
func (b *BallotBox) openBatch(ctx context.Context, voteID string, sealed, out [][]byte, start, end int, check func([]byte) error) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx) // another batch failed: no point opening this one
	}
	opened, err := b.host.Unseal(ctx, voteID, sealed[start:end])
	if err != nil {
		return fmt.Errorf("unseal vote %s: %w", voteID, err)
	}
	if len(opened) != end-start {
		return fmt.Errorf("unseal vote %s: %d ballots opened of %d", voteID, len(opened), end-start)
	}
	if check != nil {
		for i, o := range opened {
			if err := check(o); err != nil {
				return fmt.Errorf("vote %s: opened ballot %d: %w", voteID, start+i+1, err)
			}
		}
	}
	copy(out[start:end], opened)
	return nil
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
