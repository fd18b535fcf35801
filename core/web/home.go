package web

import (
	"context"
	"html/template"
	"strings"
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

// The home page is the city's busiest: its content is the open neighbourhoods and
// the viewer's name, so it is drawn once per language and signed-in state with a
// marker for the name (frameparts.go) whenever the list is read, and the list is read
// again after a change through this node or HoodListMaxAge.

// homeKey is what, besides the name, changes the home page's content.
type homeKey struct {
	tmpl     *template.Template // a language's
	signedIn bool
}

// homeCache keeps the open neighbourhoods and the home page drawn with them.
type homeCache struct {
	mu      sync.Mutex
	hoods   []core.Neighbourhood
	changes uint64
	at      time.Time
	drawn   map[homeKey]*frameParts
}

// homeParts are the home page's content for tmpl's language and a viewer signed in or
// not, to write with the viewer's name (slotName). Without a change counter (a service
// that is not the node's) the list is read and drawn every time.
func (p *Pages) homeParts(ctx context.Context, key homeKey) (*frameParts, error) {
	cc, ok := p.svc.Neighbourhoods.(changeCounter)
	if !ok {
		hoods, _, err := p.svc.Neighbourhoods.ListNeighbourhoods(ctx, false, core.Page{Limit: core.MaxPageLimit})
		if err != nil {
			return nil, err
		}
		return p.drawHome(key, hoods)
	}
	c := &p.homeCache
	changes := cc.Changes() // before reading: a change during the read makes the next visit read again
	c.mu.Lock()
	fresh := c.hoods != nil && c.changes == changes && time.Since(c.at) < HoodListMaxAge
	hoods := c.hoods
	if parts, drawn := c.drawn[key]; fresh && drawn {
		c.mu.Unlock()
		return parts, nil
	}
	c.mu.Unlock()
	if !fresh {
		at := time.Now()
		var err error
		if hoods, _, err = p.svc.Neighbourhoods.ListNeighbourhoods(ctx, false, core.Page{Limit: core.MaxPageLimit}); err != nil {
			return nil, err
		}
		if hoods == nil {
			hoods = []core.Neighbourhood{}
		}
		c.mu.Lock()
		if c.hoods == nil || !c.at.After(at) {
			c.hoods, c.changes, c.at, c.drawn = hoods, changes, at, map[homeKey]*frameParts{}
		}
		c.mu.Unlock()
	}
	parts, err := p.drawHome(key, hoods)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.drawn != nil && sameList(c.hoods, hoods) {
		c.drawn[key] = parts
	}
	c.mu.Unlock()
	return parts, nil
}

// drawHome draws the home page's content with hoods and a marker for the name.
func (p *Pages) drawHome(key homeKey, hoods []core.Neighbourhood) (*frameParts, error) {
	var cards strings.Builder
	if err := key.tmpl.ExecuteTemplate(&cards, "home-neighbourhoods", hoods); err != nil {
		return nil, err
	}
	data := homeView{City: p.opts.CityName, SignedIn: key.signedIn, Name: p.frames.slotMark(slotName),
		Neighbourhoods: template.HTML(cards.String())} // executed by html/template
	return p.frames.draw(key.tmpl, "home", data)
}

// sameList reports whether a and b are the same slice, the one the cache holds.
func sameList(a, b []core.Neighbourhood) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
