// Command recorder is a subscriber for end-to-end tests of event delivery: a plugin
// that stores every event the host delivers, once per event id, counting deliveries,
// and shows them on a public route. Tests build it with the event types to subscribe
// to set at link time (sdktest.Recorder does this):
//
//	go build -ldflags "-X main.subscribes=parks.booking.approved,parks.booking.cancelled"
//
// With -X main.memory=true it keeps events in memory instead, for benchmarks of the
// delivery path that leave out the subscriber's own commit.
//
// GET /api/v1/recorder/events lists what it holds ({"items": [...]}, in id order) and
// GET /api/v1/recorder/count counts it ({"events": n, "deliveries": m}).
// POST /api/v1/recorder/hold makes it refuse every delivery until the process ends, so
// that a test can be sure events are still on their way when it kills the city.
package main

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Set with -ldflags -X: the comma-separated event types to subscribe to, and "true"
// to keep events in memory.
var subscribes, memory string

//go:embed migrations
var migrations embed.FS

func main() { sdk.Serve(&recorder{}) }

type recorder struct {
	db *store.DB

	mu  sync.Mutex
	mem map[string]*Recorded // with memory set
	// deliveries counts what mem holds, so that /count, which benchmarks poll while
	// events arrive, costs the same with 50,000 events as with ten.
	deliveries int
	// holding refuses deliveries (POST /hold): the host keeps them for later.
	holding atomic.Bool
}

func (p *recorder) Manifest() sdk.Manifest {
	var types []string
	for _, t := range strings.Split(subscribes, ",") {
		if t = strings.TrimSpace(t); t != "" {
			types = append(types, t)
		}
	}
	return sdk.Manifest{
		Name:           "recorder",
		Version:        "0.1.0",
		MinHostVersion: "0.1.0",
		Description:    "Test subscriber: records every delivered event once, counting deliveries.",
		Routes: []sdk.Route{
			{Method: "GET", Path: "/api/v1/recorder/events", Permission: sdk.PermPublic},
			{Method: "GET", Path: "/api/v1/recorder/count", Permission: sdk.PermPublic},
			{Method: "POST", Path: "/api/v1/recorder/hold", Permission: sdk.PermPublic},
		},
		Subscribes: types,
	}
}

func (p *recorder) Configure(ctx context.Context, env sdk.Env) error {
	db, err := store.Open(ctx, env.Store)
	if err != nil {
		return err
	}
	p.db = db
	return nil
}

func (p *recorder) Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

func (p *recorder) Deactivate(context.Context) error { return p.db.Close() }

// HandleEvent records the event, or counts one more delivery of an event it has.
func (p *recorder) HandleEvent(ctx context.Context, e sdk.Event) error {
	if p.holding.Load() {
		return errors.New("recorder: holding deliveries")
	}
	if memory == "true" {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.mem == nil {
			p.mem = map[string]*Recorded{}
		}
		if r, ok := p.mem[e.ID]; ok {
			r.Deliveries++
		} else {
			p.mem[e.ID] = &Recorded{ID: e.ID, Type: e.Type, Source: e.Source, Payload: string(e.Payload), Deliveries: 1}
		}
		p.deliveries++
		return nil
	}
	return p.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO recorded (id, type, source, payload, deliveries, received_at)
			VALUES (?, ?, ?, ?, 1, ?)
			ON CONFLICT (id) DO UPDATE SET deliveries = recorded.deliveries + 1`),
			e.ID, e.Type, e.Source, string(e.Payload), store.Micros(time.Now()))
		return err
	})
}

// Recorded is one event as the recorder holds it.
type Recorded struct {
	ID         string `json:"id" db:"id"`
	Type       string `json:"type" db:"type"`
	Source     string `json:"source" db:"source"`
	Payload    string `json:"-" db:"payload"`
	Deliveries int    `json:"deliveries" db:"deliveries"`
}

func (p *recorder) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/recorder/events", func(w http.ResponseWriter, r *http.Request) {
		items := []Recorded{}
		if memory == "true" {
			p.mu.Lock()
			for _, e := range p.mem {
				items = append(items, *e)
			}
			p.mu.Unlock()
			slices.SortFunc(items, func(a, b Recorded) int { return strings.Compare(a.ID, b.ID) })
		} else if err := p.db.SelectContext(r.Context(), &items, `SELECT id, type, source, payload, deliveries FROM recorded ORDER BY id`); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError) // a test tool: the cause helps
			return
		}
		out := make([]map[string]any, len(items))
		for i, e := range items {
			out[i] = map[string]any{"id": e.ID, "type": e.Type, "source": e.Source,
				"payload": json.RawMessage(e.Payload), "deliveries": e.Deliveries}
		}
		writeJSON(w, map[string]any{"items": out})
	})
	mux.HandleFunc("POST /api/v1/recorder/hold", func(w http.ResponseWriter, r *http.Request) {
		p.holding.Store(true)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /api/v1/recorder/count", func(w http.ResponseWriter, r *http.Request) {
		var c struct {
			Events     int `json:"events" db:"events"`
			Deliveries int `json:"deliveries" db:"deliveries"`
		}
		if memory == "true" {
			p.mu.Lock()
			c.Events, c.Deliveries = len(p.mem), p.deliveries
			p.mu.Unlock()
			writeJSON(w, c)
			return
		}
		if err := p.db.GetContext(r.Context(), &c, `SELECT COUNT(*) AS events, COALESCE(SUM(deliveries), 0) AS deliveries FROM recorded`); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError) // a test tool: the cause helps
			return
		}
		writeJSON(w, c)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
