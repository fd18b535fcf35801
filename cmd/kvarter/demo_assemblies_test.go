package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/plugins/assemblies"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestDemo_Assemblies runs the demo's steps on a city that runs the assemblies plugin
// (a real child process) and reads back, as an anonymous visitor, what the issue asks
// the demo to show: two assemblies with members, a held meeting with minutes, an
// adopted motion the city answered, and an open vote.
func TestDemo_Assemblies(t *testing.T) {
	kv := sdktest.KvarterBinary(t)
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		cfg := db.Config
		cfg.Plugins = []node.PluginConfig{{Name: "assemblies"}}
		cfg.Listen, cfg.MetricsListen = "127.0.0.1:0", ""
		if cfg.DatabaseURL != "" {
			var b [5]byte
			rand.Read(b[:])
			cfg.PluginStorePrefix = "kvdemo_" + hex.EncodeToString(b[:]) + "_"
			t.Cleanup(func() {
				if sq, err := sqlx.Open("postgres", sdktest.PostgresURL(t)); err == nil {
					sdktest.DropPluginStores(sq, cfg.PluginStorePrefix)
					sq.Close()
				}
			})
		}
		opts := coretest.Options()
		opts.Executable, opts.Builtins = kv, builtinNames()
		n, err := node.New(t.Context(), cfg, node.NewLogger(cfg, io.Discard), opts)
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close(context.Background())
		c := &demoCity{Node: n, Language: "tr"}
		if err := runDemo(t.Context(), c, demoSteps, func(name string) bool { return name == "assemblies" }); err != nil {
			t.Fatal(err)
		}
		get := func(path string, out any) {
			t.Helper()
			resp, err := http.Get(c.url + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s = %d %s", path, resp.StatusCode, body)
			}
			if err := json.Unmarshal(body, out); err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
		}

		var asms sdk.Page[assemblies.Assembly]
		get("/api/v1/assemblies", &asms)
		if len(asms.Items) != 2 {
			t.Fatalf("%d assemblies, want 2", len(asms.Items))
		}
		for _, a := range asms.Items {
			if a.Members < 3 || a.Charter == "" {
				t.Errorf("%s: %d members, charter %q", a.Name, a.Members, a.Charter)
			}
		}
		k, b := "/api/v1/assemblies/"+asms.Items[0].ID, "/api/v1/assemblies/"+asms.Items[1].ID

		var past, upcoming sdk.Page[assemblies.Meeting]
		get(k+"/meetings?when=past", &past)
		if len(past.Items) != 1 {
			t.Fatalf("%d past meetings, want the one held", len(past.Items))
		}
		held := past.Items[0]
		if held.Status != assemblies.MeetingHeld || held.MinutesStatus != assemblies.MinutesPublished || held.Minutes == "" ||
			held.Mode != assemblies.ModeHybrid || len(held.Attendance) != 4 || len(held.Remote) != 1 {
			t.Errorf("the held meeting: %+v", held)
		}
		get(k+"/meetings?when=upcoming", &upcoming)
		if len(upcoming.Items) != 1 || len(upcoming.Items[0].Agenda) == 0 || upcoming.Items[0].Agenda[0].MotionID == "" {
			t.Errorf("upcoming meetings: %+v", upcoming.Items)
		}

		var adopted, voting sdk.Page[assemblies.Motion]
		get(k+"/motions?state=adopted", &adopted)
		if len(adopted.Items) != 1 {
			t.Fatalf("%d adopted motions, want 1", len(adopted.Items))
		}
		var m assemblies.Motion
		get(k+"/motions/"+adopted.Items[0].ID, &m)
		kinds := []string{}
		for _, e := range m.Timeline {
			kinds = append(kinds, e.Kind)
		}
		if m.Answer == nil || m.Answer.Decision != assemblies.DecisionPartlyAccepted || m.Answer.Reasoning == "" ||
			m.Vote == nil || m.Vote.Counts == nil || *m.Vote.Counts != (assemblies.Counts{Yes: 3, Abstain: 1}) ||
			m.Vote.MeetingID != held.ID || len(m.Sponsors) != 1 || !slices.Contains(kinds, "answered") {
			t.Errorf("the adopted motion: %+v (timeline %v)", m, kinds)
		}
		get(k+"/motions?state=voting", &voting)
		if len(voting.Items) != 1 || voting.Items[0].Vote == nil || voting.Items[0].Vote.Counts != nil {
			t.Errorf("the open vote: %+v", voting.Items)
		}
		var cons sdk.Page[assemblies.Motion]
		get(b+"/motions?kind=consultation", &cons)
		if len(cons.Items) != 1 || cons.Items[0].AdviceDueAt == nil {
			t.Errorf("the consultation: %+v", cons.Items)
		}
		var due sdk.Page[assemblies.DueAnswer]
		get("/api/v1/assemblies/answers", &due)
		if len(due.Items) != 0 {
			t.Errorf("answers still due after the demo: %+v", due.Items)
		}
		if !strings.Contains(c.Coordinators[demoResponder].Role, "answers assemblies") {
			t.Errorf("the table does not say who answers for the city: %q", c.Coordinators[demoResponder].Role)
		}
	})
}
