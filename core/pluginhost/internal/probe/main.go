// Command probe is the plugin the host's tests run: it takes its name from the command
// line (`probe plugin <name>`, as the host runs built-ins) and reports what reached it,
// so tests can prove what the host forwarded, withheld and delivered.
package main

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

//go:embed migrations
var migrations embed.FS

// version and the migrations are those of the probe's first version; v2.go (build
// tag probe_v2) makes the next.
var (
	version                 = "1.2.3"
	migrationFiles embed.FS = migrations
	migrationRoot           = "migrations"
)

// uploadLimit is the body limit the probe's upload route declares, four times the
// host's default.
const uploadLimit = 4 << 20

// FileLimit and FilesBodyLimit are the limits of the probe's files route: per file,
// and of the whole form.
const (
	FileLimit      = 1 << 20
	FilesBodyLimit = 2<<20 + 64<<10
)

// EventType is what every probe subscribes to; the probe named "alpha" publishes it.
const EventType = "alpha.tick"

type probe struct {
	name   string
	db     *store.DB
	logger *slog.Logger
	calls  atomic.Int64
	// Requests to /slow whose context the host cancelled.
	cancelled atomic.Int64

	// What this process saw of events (seen persists across restarts).
	maxSeq, redelivered, outOfOrder atomic.Int64
	// Events marked "fail" are refused, counting each refusal, until a test heals
	// the probe; what comes after them must wait.
	refused atomic.Int64
	healed  atomic.Bool
}

func (p *probe) Manifest() sdk.Manifest {
	n, pre := p.name, "/api/v1/"+p.name
	m := sdk.Manifest{
		Name: n, Version: version, MinHostVersion: "0.1.0",
		Routes: []sdk.Route{
			{Method: "GET", Path: pre + "/ping", Permission: sdk.PermPublic},
			{Method: "GET", Path: pre + "/calls", Permission: sdk.PermPublic},
			{Method: "GET", Path: pre + "/events", Permission: sdk.PermPublic},
			{Method: "POST", Path: pre + "/heal", Permission: sdk.PermPublic},
			{Method: "POST", Path: pre + "/crash", Permission: sdk.PermPublic},
			{Method: "GET", Path: pre + "/badstatus", Permission: sdk.PermPublic},
			{Method: "POST", Path: pre + "/publish", Permission: sdk.PermPublic},
			{Method: "POST", Path: pre + "/publishall", Permission: sdk.PermPublic},
			{Method: "GET", Path: pre + "/headers", Permission: sdk.PermAuthenticated},
			{Method: "GET", Path: pre + "/slow", Permission: sdk.PermPublic},
			{Method: "GET", Path: pre + "/cancelled", Permission: sdk.PermPublic},
			{Method: "GET", Path: pre + "/exe", Permission: sdk.PermPublic},
			{Method: "GET", Path: pre + "/otelenv", Permission: sdk.PermPublic},
			{Method: "GET", Path: pre + "/nbh/{nbh}/secret", Permission: n + ".secret.read", Domain: "nbh:{nbh}"},
			{Method: "GET", Path: pre + "/nbh/special/secret", Permission: sdk.PermPublic},
			{Method: "GET", Path: pre + "/city/only", Permission: n + ".city.run", Domain: "city"},
			{Method: "POST", Path: pre + "/upload", Permission: sdk.PermPublic, MaxBodyBytes: uploadLimit},
			// files takes a photo and a PDF, which the host receives (uploads.go).
			{Method: "POST", Path: pre + "/files", Permission: sdk.PermPublic, MaxBodyBytes: FilesBodyLimit, Uploads: []sdk.UploadField{
				{Name: "photo", Kinds: []string{sdk.UploadImage}, MaxBytes: FileLimit},
				{Name: "doc", Kinds: []string{sdk.UploadPDF}, MaxBytes: FileLimit},
			}},
			{Method: "GET", Path: pre + "/store", Permission: sdk.PermPublic},
		},
		Permissions: []sdk.Permission{{Name: n + ".secret.read"}, {Name: n + ".city.run"}},
		Roles: []sdk.Role{{Name: n + "_runner", Permissions: []string{n + ".city.run"},
			Labels:       map[string]string{"en": "Probe runner", "fi": "Koettimen ajaja"},
			Descriptions: map[string]string{"en": "Runs the probe for the whole city.", "fi": "Ajaa koetinta koko kaupungissa."}}},
		Grants:  []sdk.Grant{{Role: "resident", Permission: n + ".secret.read"}},
		OpenAPI: json.RawMessage(`{"` + pre + `/ping": {"get": {"summary": "Ping", "responses": {"200": {"description": "pong"}}}}, "/api/v1/me": {"get": {}}}`),
	}
	m.Routes = append(m.Routes, p.pageRoutes()...)
	m.Routes = append(m.Routes, p.notifyRoute())
	m.Notifications = p.notifyKinds()
	m.UI = p.ui()
	if n == "alpha" {
		m.Publishes = []string{EventType}
	} else {
		m.Subscribes = []string{EventType}
	}
	// Probes under these names try to hand out powers that are not theirs; the host
	// must refuse to activate them.
	switch n {
	case "greedy": // a core permission to a core role
		m.Grants = append(m.Grants, sdk.Grant{Role: "resident", Permission: "core.membership.decide"})
	case "bundler": // a core permission bundled into its own role
		m.Roles = append(m.Roles, sdk.Role{Name: n + "_admin", Permissions: []string{"core.neighbourhood.manage"}})
	case "thief": // another plugin's permission
		m.Grants = append(m.Grants, sdk.Grant{Role: "resident", Permission: "alpha.city.run"})
	case "wildcard": // every permission at once
		m.Grants = append(m.Grants, sdk.Grant{Role: "resident", Permission: "*"})
	// Probes under these names declare pages the host must refuse.
	case "offpage": // a page outside its own prefix, over a core page
		m.Routes = append(m.Routes, sdk.Route{Kind: sdk.RoutePage, Method: "GET", Path: "/admin/users", Permission: sdk.PermPublic})
	case "badnav": // a nav entry leading to the API, not a page
		m.UI.Nav = append(m.UI.Nav, sdk.NavEntry{ID: "api", Path: pre + "/ping", Labels: map[string]string{"en": "API"}, Permission: sdk.PermPublic})
	case "noisy": // a notification kind of another plugin
		m.Notifications = append(m.Notifications, sdk.NotificationKind{Name: "alpha.thing.done", Default: sdk.DeliverDaily,
			Labels: map[string]string{"en": "Someone else's"}})
	case "badcard": // a card whose fallback link leaves the site
		m.UI.Cards = append(m.UI.Cards, sdk.Card{ID: "away", Slot: "home", Path: "/" + n + "/card", Labels: map[string]string{"en": "Away"},
			Link: "https://evil.example/", Permission: sdk.PermPublic})
	}
	return m
}

func (p *probe) Configure(ctx context.Context, env sdk.Env) error {
	db, err := store.Open(ctx, env.Store)
	p.db, p.logger = db, env.Logger
	return err
}

func (p *probe) Migrations() fs.FS {
	sub, _ := fs.Sub(migrationFiles, migrationRoot)
	return sub
}

// HandleEvent records each event once by id: redelivery has no second effect, and an
// event that arrives after a later one counts as out of order. An event marked "fail"
// is refused until the probe is healed.
func (p *probe) HandleEvent(ctx context.Context, e sdk.Event) error {
	var body struct {
		Seq  int64
		Fail bool
	}
	_ = json.Unmarshal(e.Payload, &body)
	if body.Fail && !p.healed.Load() {
		p.refused.Add(1)
		return fmt.Errorf("event %d refused until healed", body.Seq)
	}
	res, err := p.db.ExecContext(ctx, p.db.Rebind(`INSERT INTO seen (id, seq) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`), e.ID, body.Seq)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		p.redelivered.Add(1)
		return nil
	}
	if body.Seq < p.maxSeq.Load() {
		p.outOfOrder.Add(1)
	}
	p.maxSeq.Store(body.Seq)
	return nil
}

func (p *probe) Handler() http.Handler {
	pre := "/api/v1/" + p.name
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pre+"/ping", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"name": p.name, "language": sdk.LanguageFrom(r.Context())})
	})
	mux.HandleFunc("GET "+pre+"/calls", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"calls": p.calls.Load()})
	})
	mux.HandleFunc("GET "+pre+"/events", func(w http.ResponseWriter, r *http.Request) {
		var distinct int64
		if err := p.db.GetContext(r.Context(), &distinct, `SELECT COUNT(*) FROM seen`); err != nil {
			writeJSON(w, 500, map[string]any{"error": err.Error()})
			return
		}
		writeJSON(w, 200, map[string]any{"distinct": distinct, "redelivered": p.redelivered.Load(), "out_of_order": p.outOfOrder.Load(),
			"max_seq": p.maxSeq.Load(), "refused": p.refused.Load()})
	})
	// files reports the form the host forwarded in a file form's place.
	mux.HandleFunc("POST "+pre+"/files", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeJSON(w, 400, map[string]any{"error": err.Error()})
			return
		}
		writeJSON(w, 200, map[string]any{"form": r.PostForm, "content_type": r.Header.Get("Content-Type"),
			"photo": sdk.UploadIDs(r, "photo"), "doc": sdk.UploadID(r, "doc")})
	})
	mux.HandleFunc("POST "+pre+"/heal", func(w http.ResponseWriter, r *http.Request) {
		p.healed.Store(true)
		writeJSON(w, 200, map[string]any{"healed": true})
	})
	mux.HandleFunc("POST "+pre+"/crash", func(w http.ResponseWriter, r *http.Request) {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	})
	mux.HandleFunc("GET "+pre+"/badstatus", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(700)
	})
	mux.HandleFunc("POST "+pre+"/publish", func(w http.ResponseWriter, r *http.Request) {
		from, _ := strconv.Atoi(r.URL.Query().Get("from"))
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		host := sdk.HostFrom(r.Context())
		for i := from; i < from+n; i++ {
			payload := fmt.Appendf(nil, `{"seq": %d}`, i)
			if err := host.Publish(r.Context(), sdk.Event{Type: EventType, Payload: payload}); err != nil {
				writeJSON(w, 500, map[string]any{"error": err.Error()})
				return
			}
		}
		writeJSON(w, 200, map[string]any{"published": n})
	})
	// publishall hands the body's events to one Host.PublishAll; a payload is taken as
	// given, so a test can send one that is not JSON.
	mux.HandleFunc("POST "+pre+"/publishall", func(w http.ResponseWriter, r *http.Request) {
		var body []struct{ ID, Type, Payload string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeJSON(w, 400, map[string]any{"error": err.Error()})
			return
		}
		events := make([]sdk.Event, len(body))
		for i, e := range body {
			events[i] = sdk.Event{ID: e.ID, Type: e.Type, Payload: json.RawMessage(e.Payload)}
		}
		if err := sdk.HostFrom(r.Context()).PublishAll(r.Context(), events); err != nil {
			writeJSON(w, 500, map[string]any{"error": err.Error()})
			return
		}
		writeJSON(w, 200, map[string]any{"published": len(events)})
	})
	mux.HandleFunc("GET "+pre+"/headers", func(w http.ResponseWriter, r *http.Request) {
		p.logger.InfoContext(r.Context(), "probe headers") // a plugin's log line while serving
		out := map[string]any{"header": r.Header, "principal": sdk.PrincipalFrom(r.Context()), "request_id": sdk.RequestIDFrom(r.Context())}
		if dl, ok := r.Context().Deadline(); ok {
			out["deadline_in_ms"] = time.Until(dl).Milliseconds()
		}
		writeJSON(w, 200, out)
	})
	// slow waits until the host gives up on the request, and counts how often its
	// context was cancelled.
	mux.HandleFunc("GET "+pre+"/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			p.cancelled.Add(1)
		case <-time.After(30 * time.Second):
		}
		writeJSON(w, 200, map[string]any{"slept": true})
	})
	mux.HandleFunc("GET "+pre+"/cancelled", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"cancelled": p.cancelled.Load()})
	})
	// exe reports the sha256 of the bytes this process runs, so tests can prove which
	// executable the host started.
	mux.HandleFunc("GET "+pre+"/exe", func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open("/proc/self/exe")
		if err != nil {
			writeJSON(w, 500, map[string]any{"error": err.Error()})
			return
		}
		defer f.Close()
		h := sha256.New()
		_, _ = io.Copy(h, f)
		writeJSON(w, 200, map[string]any{"sha256": hex.EncodeToString(h.Sum(nil))})
	})
	// otelenv reports the OTEL_* variables the host gave this process.
	mux.HandleFunc("GET "+pre+"/otelenv", func(w http.ResponseWriter, r *http.Request) {
		env := map[string]string{}
		for _, kv := range os.Environ() {
			if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OTEL_") {
				env[k] = v
			}
		}
		writeJSON(w, 200, env)
	})
	mux.HandleFunc("GET "+pre+"/nbh/{nbh}/secret", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"nbh": r.PathValue("nbh")})
	})
	// upload reports how much of the body reached the plugin.
	mux.HandleFunc("POST "+pre+"/upload", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			writeJSON(w, 400, map[string]any{"error": err.Error()})
			return
		}
		writeJSON(w, 200, map[string]any{"bytes": len(b)})
	})
	// store reports the store as the plugin sees it: who it is, its pool's bound and
	// whether the second version's migration ran.
	mux.HandleFunc("GET "+pre+"/store", func(w http.ResponseWriter, r *http.Request) {
		out := map[string]any{"max_open": p.db.Stats().MaxOpenConnections, "version": version}
		var upgraded int
		out["upgraded"] = p.db.GetContext(r.Context(), &upgraded, `SELECT COUNT(*) FROM upgraded`) == nil
		if p.db.IsPostgres() {
			var user string
			if err := p.db.GetContext(r.Context(), &user, `SELECT current_user`); err != nil {
				writeJSON(w, 500, map[string]any{"error": err.Error()})
				return
			}
			out["user"] = user
		}
		writeJSON(w, 200, out)
	})
	mux.HandleFunc("POST "+pre+"/notify", p.notify)
	mux.HandleFunc("GET "+pre+"/city/only", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"ok": true})
	})
	mux.Handle("/"+p.name+"/", sdk.Mux(p.pageRoutes()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != pre+"/calls" {
			p.calls.Add(1)
		}
		mux.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func main() {
	name := "probe"
	if n := os.Getenv("KVARTER_PLUGIN_NAME"); n != "" {
		name = n // the host names every plugin it starts
	}
	if len(os.Args) == 3 && os.Args[1] == "plugin" {
		name = os.Args[2]
	}
	sdk.Serve(&probe{name: name})
}
