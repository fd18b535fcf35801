package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/plugins/volunteers"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestDemo_Volunteers runs the demo's steps on a city that runs the volunteers plugin
// (a real child process) and reads back, as an anonymous visitor, what the issue asks
// the demo to show: published opportunities with shifts, places taken and a wait list;
// the draft stays out of sight.
func TestDemo_Volunteers(t *testing.T) {
	kv := sdktest.KvarterBinary(t)
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		cfg := db.Config
		cfg.Plugins = []node.PluginConfig{{Name: "volunteers"}}
		cfg.Listen, cfg.MetricsListen = "127.0.0.1:0", ""
		if cfg.DatabaseURL != "" {
			var b [5]byte
			_, _ = rand.Read(b[:])
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
		if err := runDemo(t.Context(), c, demoSteps, func(name string) bool { return name == "volunteers" }); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(c.url + "/api/v1/volunteers/public/opportunities")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("public list: %d %s", resp.StatusCode, body)
		}
		var page sdk.Page[volunteers.Opportunity]
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		byTitle := map[string]volunteers.Opportunity{}
		for _, o := range page.Items {
			byTitle[o.Title] = o
		}
		if len(page.Items) != 4 {
			t.Fatalf("%d public opportunities, want the 4 published: %v", len(page.Items), byTitle)
		}
		if _, ok := byTitle["Bisiklet tamir atölyesi"]; ok {
			t.Error("the draft is public")
		}
		clean := byTitle["Bostanlı kıyı temizliği"].Shifts
		if len(clean) != 1 || clean[0].Taken != 2 || clean[0].Free != 0 || clean[0].Waitlisted != 1 {
			t.Errorf("the clean-up's shift: %+v, want full with one waiting", clean)
		}
		if sol := byTitle["Yaşlı komşulara alışveriş ve sohbet"].Shifts; len(sol) != 2 || sol[0].Taken != 1 {
			t.Errorf("the solidarity shifts: %+v, want one confirmed place", sol)
		}
		if sch := byTitle["Okul bahçesi boyama günü"]; len(sch.Shifts) != 2 || !sch.Newcomers {
			t.Errorf("the school day: %+v", sch)
		}
	})
}
