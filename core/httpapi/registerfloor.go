package httpapi

import (
	"context"
	"time"

	"github.com/kvarter/kvarter/core"
)

// DefaultRegisterFloor is the node's RegisterFloor: well above what registering takes
// on a busy node (one argon2id hash, one transaction), so that both answers wait it out.
const DefaultRegisterFloor = time.Second

// flooredRegistration answers Register no sooner than floor after it began, so that
// a new address and a taken one take the same time (issue 17). It wraps the identity
// service the API and the pages use; the core's own callers (kvarter demo, the
// command line) register at full speed.
type flooredRegistration struct {
	core.IdentityService
	floor time.Duration
}

func (f flooredRegistration) Register(ctx context.Context, r core.Registration) (*core.User, error) {
	wait := time.NewTimer(f.floor)
	defer wait.Stop()
	u, err := f.IdentityService.Register(ctx, r)
	select {
	case <-wait.C:
	case <-ctx.Done():
	}
	return u, err
}
