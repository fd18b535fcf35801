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

// hoodList keeps the open neighbourhoods the home page lists, and their cards drawn
// in each language, which every visit to it would otherwise read from the database
// and draw again.
type hoodList struct {
	mu      sync.Mutex
	hoods   []core.Neighbourhood
	changes uint64
	at      time.Time
	drawn   map[*template.Template]template.HTML // per language's templates
}

// homeNeighbourhoods are the cards of the first page of open neighbourhoods (anyone
// may read them) drawn by tmpl's home-neighbourhoods: from the cache while this node
// changed none and no more than HoodListMaxAge passed since they were read; without a
// change counter (a service that is not the node's), read and drawn every time.
func (p *Pages) homeNeighbourhoods(ctx context.Context, tmpl *template.Template) (template.HTML, error) {
	cc, ok := p.svc.Neighbourhoods.(changeCounter)
	if !ok {
		hoods, _, err := p.svc.Neighbourhoods.ListNeighbourhoods(ctx, false, core.Page{Limit: core.MaxPageLimit})
		if err != nil {
			return "", err
		}
		return drawHoods(tmpl, hoods)
	}
	c := &p.hoods
	changes := cc.Changes() // before reading: a change during the read makes the next visit read again
	c.mu.Lock()
	fresh := c.hoods != nil && c.changes == changes && time.Since(c.at) < HoodListMaxAge
	hoods := c.hoods
	if h, drawn := c.drawn[tmpl]; fresh && drawn {
		c.mu.Unlock()
		return h, nil
	}
	c.mu.Unlock()
	if !fresh {
		at := time.Now()
		var err error
		if hoods, _, err = p.svc.Neighbourhoods.ListNeighbourhoods(ctx, false, core.Page{Limit: core.MaxPageLimit}); err != nil {
			return "", err
		}
		if hoods == nil {
			hoods = []core.Neighbourhood{}
		}
		c.mu.Lock()
		if c.hoods == nil || !c.at.After(at) {
			c.hoods, c.changes, c.at, c.drawn = hoods, changes, at, map[*template.Template]template.HTML{}
		}
		c.mu.Unlock()
	}
	h, err := drawHoods(tmpl, hoods)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if sameList(c.hoods, hoods) {
		c.drawn[tmpl] = h
	}
	c.mu.Unlock()
	return h, nil
}

func drawHoods(tmpl *template.Template, hoods []core.Neighbourhood) (template.HTML, error) {
	var b strings.Builder
	if err := tmpl.ExecuteTemplate(&b, "home-neighbourhoods", hoods); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil // executed by html/template
}

// sameList reports whether a and b are the same slice, the one the cache holds.
func sameList(a, b []core.Neighbourhood) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
