package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestDemo_Consultations runs the demo's steps on a city that runs the consultations
// plugin (a real child process) and reads back, as an anonymous visitor, what the
// issue asks the demo to show: an open survey with answers, a closed poll with its
// results and the city's response, and an idea board with comments.
func TestDemo_Consultations(t *testing.T) {
	kv := sdktest.KvarterBinary(t)
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		cfg := db.Config
		cfg.Plugins = []node.PluginConfig{{Name: "consultations"}}
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
		if err := runDemo(t.Context(), c, demoSteps, func(name string) bool { return name == "consultations" }); err != nil {
			t.Fatal(err)
		}
		get := func(path string, out any) string {
			t.Helper()
			resp, err := http.Get(c.url + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
			}
			if out != nil {
				if err := json.Unmarshal(body, out); err != nil {
					t.Fatalf("GET %s: %v", path, err)
				}
			}
			return string(body)
		}
		var list struct {
			Items []struct {
				ID, Title, Kind, Stage string
			}
		}
		get(demoConsAPI, &list)
		stages := map[string]string{}
		ids := map[string]string{}
		for _, it := range list.Items {
			stages[it.Kind], ids[it.Kind] = it.Stage, it.ID
		}
		if stages["survey"] != "open" || stages["poll"] != "responded" || stages["ideas"] != "open" {
			t.Fatalf("the demo's consultations: %+v", list.Items)
		}
		var poll struct {
			Answers  int    `json:"answers"`
			Response string `json:"response"`
		}
		get(demoConsAPI+"/"+ids["poll"]+"/results", &poll)
		if poll.Answers == 0 || !strings.Contains(poll.Response, "Deniz Feneri") {
			t.Errorf("the poll's results: %+v", poll)
		}
		if page := get("/consultations/"+ids["poll"]+"/results", nil); !strings.Contains(page, "Deniz Feneri Meydanı") {
			t.Errorf("the results page lacks the options")
		}
		board := get(demoConsAPI+"/"+ids["ideas"]+"/ideas.json", nil)
		for _, want := range []string{"Sahile içme suyu çeşmeleri", "Şişe doldurulabilen musluklar da olsun."} {
			if !strings.Contains(board, want) {
				t.Errorf("the idea board lacks %q:\n%.2000s", want, board)
			}
		}
	})
}
