package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestMain_DemoParks runs `kvarter demo` on an empty city that runs the parks plugin
// and checks through the plugin's API, as an anonymous visitor and as the printed city
// admin: two parks with addresses, areas inside a whole park and support items,
// approved public events over the next weeks, and one request waiting for a manager.
func TestMain_DemoParks(t *testing.T) {
	kv := sdktest.KvarterBinary(t)
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		cfg := map[string]any{"data_dir": db.Config.DataDir, "plugins": []map[string]any{{"name": "parks"}},
			"database_max_connections": db.Config.DatabaseMaxConnections}
		if db.Config.DatabaseURL != "" {
			// The plugin's schema and role get a prefix of this test's own, dropped after
			// it, so that runs on one database never see each other's parks.
			var r [5]byte
			rand.Read(r[:])
			prefix := "kvdemo_" + hex.EncodeToString(r[:]) + "_"
			cfg["database_url"], cfg["plugin_store_prefix"] = db.Config.DatabaseURL, prefix
			t.Cleanup(func() {
				if pg, err := sqlx.Open("postgres", sdktest.PostgresURL(t)); err == nil {
					sdktest.DropPluginStores(pg, prefix)
					pg.Close()
				}
			})
		}
		cfgPath := filepath.Join(t.TempDir(), "city.json")
		b, _ := json.Marshal(cfg)
		if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
			t.Fatal(err)
		}
		m, out, errOut := newTestMain(t, db.Config.DataDir)
		m.Options.Executable = kv
		if code := m.Run(t.Context(), []string{"demo", "--config", cfgPath}); code != 0 {
			t.Fatalf("demo = %d\n%s", code, errOut)
		}
		rows := parseDemoTable(t, out.String())

		m, _, errOut = newTestMain(t, db.Config.DataDir)
		m.Options.Executable = kv
		srv := startServe(t, m, errOut, "--config", cfgPath)
		waitActive(t, srv.node)
		anon := coretest.NewClient(t, srv.node)
		admin := login(t, srv.node, rows[0].Email, rows[0].Password)

		type park struct {
			ID, Name     string
			SupportItems map[string]int `json:"support_items"`
			Address      struct {
				Locality string `json:"locality"`
			} `json:"address"`
			Geo *struct{ Latitude float64 } `json:"geo"`
		}
		var parks struct{ Items []park }
		anon.Must(200, "GET", "/api/v1/parks", nil).Decode(t, &parks)
		if len(parks.Items) != 2 {
			t.Fatalf("%d parks, want 2: %+v", len(parks.Items), parks)
		}
		pending := 0
		for _, p := range parks.Items {
			if p.Address.Locality != "İzmir" || p.Geo == nil || p.SupportItems["chairs"] == 0 {
				t.Errorf("park %+v lacks its address, location or support items", p)
			}
			var areas struct {
				Items []struct {
					ParentID       string `json:"parent_id"`
					EffectiveRules struct {
						MinNotice int `json:"min_notice_minutes"`
					} `json:"effective_rules"`
				}
			}
			anon.Must(200, "GET", "/api/v1/parks/"+p.ID+"/areas", nil).Decode(t, &areas)
			inside := 0
			for _, a := range areas.Items {
				if a.ParentID != "" {
					inside++
					if a.EffectiveRules.MinNotice != 2*24*60 {
						t.Errorf("an area of %s does not inherit the park's notice: %+v", p.Name, a)
					}
				}
			}
			if len(areas.Items) != 3 || inside != 2 {
				t.Errorf("%s has %d areas, %d inside the whole park; want 3 and 2", p.Name, len(areas.Items), inside)
			}
			var queue struct{ Items []struct{ Status string } }
			admin.Must(200, "GET", "/api/v1/parks/"+p.ID+"/bookings?status=requested", nil).Decode(t, &queue)
			pending += len(queue.Items)
		}
		if pending != 1 {
			t.Errorf("%d requests wait for a manager, want 1", pending)
		}
		var events struct {
			Items []struct {
				Title, Status string
				Start         time.Time
			}
		}
		anon.Must(200, "GET", "/api/v1/parks/events", nil).Decode(t, &events)
		if len(events.Items) != 5 {
			t.Fatalf("%d public events, want 5: %+v", len(events.Items), events)
		}
		now := time.Now()
		for _, e := range events.Items {
			if e.Status != "approved" || !e.Start.After(now) || e.Start.After(now.Add(5*7*24*time.Hour)) {
				t.Errorf("event %+v is not approved within the next weeks", e)
			}
		}
		feed := anon.Must(200, "GET", "/api/v1/parks/events.ics", nil)
		if !strings.Contains(string(feed.Body), "Çık Dışarı Oynayalım") {
			t.Errorf("the feed lacks the demo's events:\n%s", feed.Body)
		}
	})
}
