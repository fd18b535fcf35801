package web

import (
	"context"
	"sync"
	"time"

	"github.com/kvarter/kvarter/core"
)

// HoodListMaxAge bounds how long the home page may show the list of neighbourhoods as
// another node last saw it: a neighbourhood created, renamed or archived through this
// node shows at once, through another node within this time.
const HoodListMaxAge = time.Second

// changeCounter is a neighbourhood service that counts its own node's changes
// (sqlstore.NeighbourhoodService.Changes).
type changeCounter interface{ Changes() uint64 }

// hoodList keeps the open neighbourhoods the home page lists, which every visit to it
// would otherwise read from the database.
type hoodList struct {
	mu      sync.Mutex
	hoods   []core.Neighbourhood
	changes uint64
	at      time.Time
}

// openNeighbourhoods are the first page of open neighbourhoods (anyone may read them),
// from the cache while no change of this node and no more than HoodListMaxAge passed
// since they were read; without a change counter, from the service every time. The
// slice is shared: read it, never change it.
func (p *Pages) openNeighbourhoods(ctx context.Context) ([]core.Neighbourhood, error) {
	cc, ok := p.svc.Neighbourhoods.(changeCounter)
	if !ok {
		hoods, _, err := p.svc.Neighbourhoods.ListNeighbourhoods(ctx, false, core.Page{Limit: core.MaxPageLimit})
		return hoods, err
	}
	c := &p.hoods
	changes := cc.Changes() // before reading: a change during the read makes the next visit read again
	c.mu.Lock()
	if c.hoods != nil && c.changes == changes && time.Since(c.at) < HoodListMaxAge {
		hoods := c.hoods
		c.mu.Unlock()
		return hoods, nil
	}
	c.mu.Unlock()
	at := time.Now()
	hoods, _, err := p.svc.Neighbourhoods.ListNeighbourhoods(ctx, false, core.Page{Limit: core.MaxPageLimit})
	if err != nil {
		return nil, err
	}
	if hoods == nil {
		hoods = []core.Neighbourhood{}
	}
	c.mu.Lock()
	if c.hoods == nil || !c.at.After(at) {
		c.hoods, c.changes, c.at = hoods, changes, at
	}
	c.mu.Unlock()
	return hoods, nil
}
