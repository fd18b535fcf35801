package sdktest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

const permWrite = "notes.note.write"

var notesManifest = sdk.Manifest{
	Name:        "notes",
	Roles:       []sdk.Role{{Name: "note_keeper", Permissions: []string{permWrite}}},
	Grants:      []sdk.Grant{{Role: sdktest.RoleResident, Permission: permWrite}},
	Publishes:   []string{"notes.written"},
	Permissions: []sdk.Permission{{Name: permWrite}},
}

func TestFakeHost_Can(t *testing.T) {
	h := sdktest.NewFakeHost(notesManifest)
	h.AddNeighbourhood(sdk.Neighbourhood{ID: "n1"})
	h.AddUser(sdk.User{ID: "ann"})
	h.AddMember("ann", "n1")
	h.Grant("kim", "note_keeper", sdk.DomainCity)
	h.Grant("lee", "note_keeper", "nbh:n2")
	h.Grant("ada", sdktest.RoleCityAdmin, sdk.DomainCity)
	h.AddOrganisation(sdk.Organisation{ID: "o1", Verified: true, Representatives: []string{"rep"}})
	h.AddOrgMember("o1", "mem", "member")
	h.GrantPermission(sdktest.RoleOrgRepresentative, permWrite)
	ctx := context.Background()
	for _, c := range []struct {
		user, perm, domain string
		want               bool
	}{
		{"ann", permWrite, "nbh:n1", true},  // resident by verified membership, default grant
		{"ann", permWrite, "nbh:n2", false}, // not there
		{"ann", permWrite, "", true},        // somewhere
		{"ann", permWrite, "city", false},
		{"kim", permWrite, "nbh:n9", true}, // a city role holds everywhere
		{"lee", permWrite, "nbh:n2", true},
		{"lee", permWrite, "nbh:n1", false},
		{"ada", "anything.at.all", "org:o9", true},
		{"rep", permWrite, "org:o1", true},
		{"mem", permWrite, "org:o1", false},
		{"", permWrite, "nbh:n1", false},
		{"nobody", permWrite, "", false},
	} {
		if got, err := h.Can(ctx, c.user, c.perm, c.domain); err != nil || got != c.want {
			t.Errorf("Can(%s, %s, %q) = %v, %v; want %v", c.user, c.perm, c.domain, got, err, c.want)
		}
	}
	ann := h.Principal("ann")
	if !ann.HasRole("nbh:n1", sdktest.RoleResident) || !slices.Equal(ann.Neighbourhoods, []string{"n1"}) {
		t.Errorf("ann %+v", ann)
	}
	rep := h.Principal("rep")
	if len(rep.Organisations) != 1 || rep.Organisations[0] != (sdk.OrgMembership{OrganisationID: "o1", Role: "representative", Verified: true}) ||
		!rep.HasRole("org:o1", sdktest.RoleOrgRepresentative) || !rep.HasRole("org:o1", sdktest.RoleOrgMember) {
		t.Errorf("rep %+v", rep)
	}
	if p := h.Principal(""); p.Authenticated() {
		t.Errorf("anonymous %+v", p)
	}
	users, _ := h.Users(ctx, []string{"ann", "ghost"})
	if len(users) != 1 || users[0].Email != "ann@example.org" {
		t.Errorf("users %+v", users)
	}
	ms, _ := h.Memberships(ctx, []string{"ann", "kim"})
	if len(ms) != 1 || ms[0].NeighbourhoodID != "n1" {
		t.Errorf("memberships %+v", ms)
	}
	orgs, _ := h.Organisations(ctx, []string{"o1", "o2"})
	if len(orgs) != 1 || !slices.Equal(orgs[0].Representatives, []string{"rep"}) {
		t.Errorf("organisations %+v", orgs)
	}
}

func TestFakeHost_Events(t *testing.T) {
	h := sdktest.NewFakeHost(notesManifest)
	ctx := context.Background()
	if err := h.Publish(ctx, sdk.Event{Type: "notes.written", Payload: []byte(`{"id":"a"}`)}); err != nil {
		t.Fatal(err)
	}
	batch := []sdk.Event{{ID: "e1", Type: "notes.written", Payload: []byte(`{"id":"b"}`)}, {ID: "e2", Type: "notes.written", Payload: []byte(`{"id":"c"}`)}}
	for range 2 { // a relay sends a batch again: taken once
		if err := h.PublishAll(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	// A batch with one bad event is refused whole.
	if err := h.PublishAll(ctx, []sdk.Event{{ID: "e3", Type: "notes.written"}, {ID: "e4", Type: "notes.other"}}); err == nil {
		t.Error("an undeclared type was taken")
	}
	events := h.Events()
	if len(events) != 3 || events[1].ID != "e1" || events[0].ID == "" || events[0].Source != "notes" || events[0].OccurredAt.IsZero() {
		t.Fatalf("events %+v", events)
	}
	type written struct{ ID string }
	if got := sdktest.Payloads[written](t, h, "notes.written"); len(got) != 3 || got[0].ID != "a" {
		t.Errorf("payloads %+v", got)
	}
	if err := h.Audit(ctx, sdk.AuditEntry{Action: "notes.note.delete", ActorID: "ann"}); err != nil || len(h.Audits()) != 1 {
		t.Errorf("audit %v %v", err, h.Audits())
	}

	h.SetUnavailable(true)
	if _, err := h.Users(ctx, []string{"ann"}); !sdk.IsUnavailable(err) {
		t.Errorf("Users while away: %v", err)
	}
	if _, err := h.Can(ctx, "ann", permWrite, ""); !sdk.IsUnavailable(err) {
		t.Errorf("Can while away: %v", err)
	}
	if err := h.PublishAll(ctx, []sdk.Event{{ID: "e9", Type: "notes.written"}}); !sdk.IsUnavailable(err) || len(h.Events()) != 3 {
		t.Errorf("PublishAll while away: %v, %d events", err, len(h.Events()))
	}
	h.SetUnavailable(false)
	if _, err := h.Users(ctx, nil); err != nil {
		t.Errorf("back: %v", err)
	}
	// Sealing works through the embedded keyring.
	if _, err := h.SealingKey(ctx, "vote-1"); err != nil {
		t.Error(err)
	}
}

type noteIn struct {
	Text string `json:"text" max:"100"`
}

type note struct {
	ID     string `json:"id"`
	Text   string `json:"text"`
	Author string `json:"author"`
	Nbh    string `json:"nbh"`
}

// notesRoutes is a tiny plugin's table over a map, for the harness.
func notesRoutes(lie bool) []sdk.Route {
	var mu sync.Mutex
	var notes []note
	return []sdk.Route{
		sdk.Post("/api/v1/notes/nbh/{nbh}", permWrite, func(r *http.Request, in noteIn) (note, error) {
			p := sdk.PrincipalFrom(r.Context())
			if sdk.RequestIDFrom(r.Context()) == "" || sdk.HostFrom(r.Context()) == nil {
				return note{}, errors.New("no request id or host in the context")
			}
			mu.Lock()
			defer mu.Unlock()
			n := note{ID: fmt.Sprint(len(notes) + 1), Text: in.Text, Author: p.UserID, Nbh: r.PathValue("nbh")}
			notes = append(notes, n)
			return n, nil
		}).In("nbh:{nbh}").Status(201),
		sdk.Get("/api/v1/notes", sdk.PermPublic, func(r *http.Request) (sdk.Page[note], error) {
			q, err := sdk.ListParams(r)
			if err != nil {
				return sdk.Page[note]{}, err
			}
			mu.Lock()
			defer mu.Unlock()
			if lie {
				return sdk.Page[note]{}, sdk.Errorf(sdk.CodeConflict, "undocumented")
			}
			return sdk.NewPage(slices.Clone(notes), q, func(n note) []any { return []any{n.ID} }), nil
		}),
		sdk.Put("/api/v1/notes/upload", sdk.PermAuthenticated, func(r *http.Request, in noteIn) (sdk.NoBody, error) {
			return sdk.NoBody{}, nil
		}).MaxBody(64),
	}
}

func TestHarness(t *testing.T) {
	host := sdktest.NewFakeHost(notesManifest)
	h := sdktest.ServeRoutes(t, notesRoutes(false), host)
	host.AddMember("ann", "n1")
	ann, bob, anon := h.As("ann"), h.As("bob"), h.As("")

	var n note
	h.Must(201, ann, "POST", "/api/v1/notes/nbh/n1", map[string]any{"text": "hello"}).Decode(t, &n)
	if n.Author != "ann" || n.Nbh != "n1" {
		t.Errorf("note %+v", n)
	}
	for _, c := range []struct {
		who    sdk.Principal
		method string
		path   string
		body   any
		status int
	}{
		{anon, "POST", "/api/v1/notes/nbh/n1", map[string]any{"text": "x"}, 401},
		{bob, "POST", "/api/v1/notes/nbh/n1", map[string]any{"text": "x"}, 403},
		{ann, "POST", "/api/v1/notes/nbh/n2", map[string]any{"text": "x"}, 403}, // domain from the path
		{ann, "POST", "/api/v1/notes/nbh/n1", map[string]any{"text": strings.Repeat("x", 101)}, 422},
		{ann, "POST", "/api/v1/notes/nbh/n1", "{", 400},
		{ann, "PUT", "/api/v1/notes/upload", map[string]any{"text": strings.Repeat("x", 100)}, 413},
		{ann, "PUT", "/api/v1/notes/upload", map[string]any{"text": "small"}, 204},
		{anon, "GET", "/api/v1/notes?limit=0", nil, 422},
		{anon, "GET", "/api/v1/notes?cursor=zz", nil, 400},
		{anon, "DELETE", "/api/v1/notes", nil, 405},
		{anon, "GET", "/api/v1/nothing", nil, 404},
	} {
		r := h.Do(c.who, c.method, c.path, c.body)
		if r.Status != c.status {
			t.Errorf("%s %s as %q = %d, want %d: %s", c.method, c.path, c.who.UserID, r.Status, c.status, r.Body)
		}
		if r.Status >= 400 && !strings.Contains(string(r.Body), `"code"`) {
			t.Errorf("%s %s: not the error format: %s", c.method, c.path, r.Body)
		}
	}
	ids := sdktest.WalkPages(t, func(cursor string) ([]string, string) {
		var p sdk.Page[note]
		h.Must(200, anon, "GET", "/api/v1/notes?limit=2&cursor="+cursor, nil).Decode(t, &p)
		var ids []string
		for _, n := range p.Items {
			ids = append(ids, n.ID)
		}
		return ids, p.NextCursor
	}, func(i int) {
		if r := h.Do(ann, "POST", "/api/v1/notes/nbh/n1", map[string]any{"text": fmt.Sprint("note ", i)}); r.Status != 201 {
			t.Errorf("insert %d: %d %s", i, r.Status, r.Body)
		}
	})
	if len(ids) < 1 || ids[0] != "1" {
		t.Errorf("walked %v", ids)
	}
}

// The harness fails a test whose plugin answers what its document does not say.
func TestHarness_ChecksTheDocument(t *testing.T) {
	rec := &recordingTB{TB: t}
	h := sdktest.ServeRoutes(rec, notesRoutes(true), nil)
	if r := h.Do(h.As(""), "GET", "/api/v1/notes", nil); r.Status != 409 {
		t.Fatalf("status %d", r.Status)
	}
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "409, which is not documented") {
		t.Errorf("harness reported %q", rec.errors)
	}
}

type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
