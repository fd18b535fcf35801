// Command emitter is a plugin for the SDK's outbox tests and benchmark: each call of
// POST /api/v1/emitter/things makes things, and each thing's row and its
// "emitter.thing.made" event are written in one transaction.
package main

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// EventMade announces a thing.
const EventMade = "emitter.thing.made"

//go:embed migrations
var migrations embed.FS

func main() { sdk.Serve(&emitter{}) }

type emitter struct {
	db *store.DB
}

func (p *emitter) Manifest() sdk.Manifest {
	return sdk.Manifest{
		Name:           "emitter",
		Version:        "0.1.0",
		MinHostVersion: "0.1.0",
		Description:    "Test plugin: makes things and emits an event for each through the outbox.",
		Routes: []sdk.Route{
			{Method: "POST", Path: "/api/v1/emitter/things", Permission: sdk.PermAuthenticated, MaxBodyBytes: 1 << 10},
		},
		Publishes: []string{EventMade},
	}
}

func (p *emitter) Configure(ctx context.Context, env sdk.Env) error {
	db, err := store.Open(ctx, env.Store)
	if err != nil {
		return err
	}
	p.db = db
	return nil
}

func (p *emitter) Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

func (p *emitter) Deactivate(context.Context) error { return p.db.Close() }

// Made is the payload of EventMade.
type Made struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

func (p *emitter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/emitter/things", p.make)
	return mux
}

// make makes {"count": n} things labelled {"label": "..."}, {"per_tx": k} to a
// transaction (default 1), and answers {"made": n}.
func (p *emitter) make(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Count int    `json:"count"`
		PerTx int    `json:"per_tx"`
		Label string `json:"label"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Count < 1 || in.Count > 100_000 || in.PerTx < 0 {
		http.Error(w, `{"error":{"code":"invalid","message":"count must be 1 to 100000"}}`, http.StatusUnprocessableEntity)
		return
	}
	perTx := max(in.PerTx, 1)
	for done := 0; done < in.Count; done += perTx {
		if err := p.makeThings(r.Context(), min(perTx, in.Count-done), in.Label); err != nil {
			http.Error(w, fmt.Sprintf(`{"error":{"code":"internal","message":%q}}`, err.Error()), http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]int{"made": in.Count})
}

// makeThings is the pattern the outbox is for: a change and its events, one
// transaction.
func (p *emitter) makeThings(ctx context.Context, n int, label string) error {
	return p.db.InTx(ctx, func(tx *store.Tx) error {
		for range n {
			id := newID()
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO things (id, label, made_at) VALUES (?, ?, ?)`),
				id, label, store.Micros(time.Now())); err != nil {
				return fmt.Errorf("make thing: %w", err)
			}
			if err := tx.Emit(EventMade, Made{ID: id, Label: label}); err != nil {
				return err
			}
		}
		return nil
	})
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
