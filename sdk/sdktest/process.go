package sdktest

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/hostside"
)

// ProcessOptions describe a plugin executable for LaunchProcess.
type ProcessOptions struct {
	// Pkg is the plugin's main package, relative to the test's directory
	// (e.g. "./cmd/kvarter-parks").
	Pkg string
	// Name is the plugin's name.
	Name string
	// Host answers the plugin's calls: usually a FakeHost.
	Host sdk.Host
	// Store is the plugin's store; a fresh SQLite file when empty.
	Store sdk.StoreConfig
	// Settings are passed as the city's (the process applies its manifest defaults).
	Settings map[string]string
	// CityTimeZone is "Europe/Helsinki" when empty.
	CityTimeZone string
	// Languages are the city's, preferred first; the plugin's default when empty.
	Languages []string
}

// Process is a plugin running as its own executable, launched, configured, migrated
// and activated over the real plugin protocol by sdk/hostside — the launcher the core
// uses — with the test standing in for the core. Requests reach it as the core sends
// them after its own checks; it is stopped when the test ends.
type Process struct {
	*hostside.Process
	tb testing.TB
}

// LaunchProcess builds o.Pkg (once per test binary) and starts it.
func LaunchProcess(tb testing.TB, o ProcessOptions) *Process {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds and launches the plugin executable")
	}
	bin := build(tb, ".", o.Pkg, o.Name)
	if o.Store.Dialect == "" {
		o.Store = SQLiteStore(tb)
	}
	if o.CityTimeZone == "" {
		o.CityTimeZone = "Europe/Helsinki"
	}
	if o.Settings == nil {
		o.Settings = map[string]string{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	p, err := hostside.Launch(ctx, hostside.LaunchOptions{Name: o.Name, Cmd: cmd,
		Logger: slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		tb.Fatalf("launch %s: %v", o.Name, err)
	}
	tb.Cleanup(p.Close)
	if err := p.Configure(ctx, hostside.ConfigureRequest{Store: o.Store, CityTimeZone: o.CityTimeZone,
		Languages: o.Languages, Settings: o.Settings}, o.Host); err != nil {
		tb.Fatalf("configure %s: %v", o.Name, err)
	}
	if err := p.Migrate(ctx); err != nil {
		tb.Fatalf("migrate %s: %v", o.Name, err)
	}
	if err := p.Activate(ctx); err != nil {
		tb.Fatalf("activate %s: %v", o.Name, err)
	}
	return &Process{Process: p, tb: tb}
}

// Do sends one request through the Handle call; query may be empty and body is
// encoded as JSON unless nil.
func (p *Process) Do(who sdk.Principal, method, path, query string, body any) *Response {
	p.tb.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			p.tb.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := p.Handle(ctx, &hostside.HTTPRequest{Method: method, Path: path, RawQuery: query, Body: b,
		Principal: who, RequestID: "sdktest"})
	if err != nil {
		p.tb.Errorf("%s %s: %v", method, path, err)
		return &Response{}
	}
	return &Response{Status: r.Status, Header: r.Header, Body: r.Body}
}

// Must is Do that fails the test unless the answer has status want.
func (p *Process) Must(want int, who sdk.Principal, method, path string, body any) *Response {
	p.tb.Helper()
	r := p.Do(who, method, path, "", body)
	if r.Status != want {
		p.tb.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}
